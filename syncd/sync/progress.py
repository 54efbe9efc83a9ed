"""What a run tells whoever watches it: the phase it is in and, while reading, each source's records so far.

The pipeline calls the :class:`Progress` it is given and knows nothing of terminals: the CLI draws one
(``syncd/cli/progress.py``); the daemon, the API and ``--json`` pass none. The calls are few (a phase change, a
source's count every :data:`EVERY` records), so a watched run costs next to nothing more, and an unwatched run's
records are converted exactly as before.
"""

from __future__ import annotations

from typing import Any, Protocol

from connectors.base import Convert

EVERY = 1000     # records between two counts of one source: 400 calls in a 400,000-user read


class Progress(Protocol):
    def phase(self, name: str) -> None:
        """The run enters a phase: "read", "plan", then "preview" (a dry run or check) or "apply", and "statistics"
        (after a large apply)."""

    def records(self, source: str, count: int, done: bool = False) -> None:
        """``source`` has read ``count`` records so far; ``done`` on its last call, when its read has ended.
        Called from the thread that reads the source (sources are read at the same time)."""


def counting(convert: Convert, source: str, progress: Progress) -> Convert:
    """``convert`` that also tells ``progress`` the records of ``source`` converted so far, every EVERY."""
    seen = 0

    def counted(record: Any) -> Any:
        nonlocal seen
        seen += 1
        if seen % EVERY == 0:
            progress.records(source, seen)
        return convert(record)

    return counted
