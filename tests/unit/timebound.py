"""A per-example time bound for property tests: fail, never hang, without Hypothesis deadlines (which a loaded
2-core machine would trip)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

LIMIT = 10.0    # seconds for one example: generous for a loaded machine, short of a real hang


@contextmanager
def time_limit(seconds: float = LIMIT) -> Iterator[None]:
    """Fail (not hang) when the body takes longer than ``seconds``."""
    def expired(*_: object) -> None:
        raise TimeoutError(f"took longer than {seconds}s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
