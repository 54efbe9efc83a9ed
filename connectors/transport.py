"""What the HTTP clients of the sources share (CUCM's AXL, CWMS's XML API): a failure of ``requests`` in words,
classed as permanent or temporary, and the retry budget of temporary faults.

A connection refused, a name that does not resolve and a certificate that does not verify are permanent:
waiting does not mend them, so a read fails at once with one plain line. A timeout, a dropped connection and an
HTTP 5xx may pass: they are retried with capped exponential backoff and jitter, at most ``retries`` times a call
and for at most a budget of seconds in all over one client's life (one read), each retry logged at INFO on the
``connectors.retry`` logger, which a terminal shows without -v (``syncd/logging.py``).
"""

from __future__ import annotations

import errno
import http.client
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import requests

retry_log = logging.getLogger("connectors.retry")


def one_line(text: object, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception inside it: requests and urllib3 nest the socket's or ``ssl``'s error several deep
    (in ``args``, ``reason``, the cause and the context)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [x for x in (*e.args, getattr(e, "reason", None), e.__cause__, e.__context__)
                 if isinstance(x, BaseException)]


def tls_problem(exc: BaseException) -> str:
    """The certificate problem inside a requests ``SSLError``, e.g. "certificate verify failed: certificate has
    expired"."""
    for e in _chain(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return str(e.verify_message)
        if isinstance(e, ssl.SSLError) and e.reason:
            return f"handshake failed ({e.reason})"
    return one_line(exc)


# Connection failures that waiting does not mend: the address or the name is wrong, or nothing listens there.
_UNREACHABLE = {errno.ECONNREFUSED: "connection refused", errno.EHOSTUNREACH: "no route to host",
                errno.ENETUNREACH: "network unreachable"}


def unreachable(exc: BaseException) -> str | None:
    """Why a connection could not be made, in words, when retrying cannot help (refused, a name that does not
    resolve, no route); None for a failure that may pass (a reset, a dropped connection, a timeout)."""
    for e in _chain(exc):
        if isinstance(e, socket.gaierror):
            return "the name does not resolve"
        if isinstance(e, OSError) and e.errno in _UNREACHABLE:
            return _UNREACHABLE[e.errno]
    return None


def lost(exc: BaseException) -> str:
    """A connection failure that may pass, in words: the socket's own reason rather than urllib3's wrapping."""
    for e in _chain(exc):
        if isinstance(e, http.client.RemoteDisconnected):
            return "the server closed the connection without answering"
        if isinstance(e, OSError) and e.strerror:
            return e.strerror.lower()
    return one_line(exc, 120)


def host_port(url: str) -> str:
    """``host:port`` of a URL, the port filled in from the scheme."""
    parts = urlsplit(url)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"





def request_failure(e: requests.exceptions.RequestException, op: str, where: str, timeout: float,
                    make: Callable[..., Exception]) -> Exception:
    """The source's error (``make(message, kind=..., temporary=...)``) for a failed request of ``op`` to ``where``."""
    if isinstance(e, requests.exceptions.SSLError):
        return make(f"TLS verification failed: {tls_problem(e)} ({where})", kind="tls", temporary=False)
    if isinstance(e, requests.exceptions.Timeout):
        return make(f"{op}: no answer from {where} within {timeout:g}s", kind="timeout", temporary=True)
    if isinstance(e, requests.exceptions.ConnectionError):
        cause = unreachable(e)
        if cause is not None:
            return make(f"cannot connect to {where} ({cause})", kind="unreachable", temporary=False)
        return make(f"{op}: connection to {where} lost ({lost(e)})", kind="network", temporary=True)
    return make(f"{op}: {one_line(e, 120)}", kind="network", temporary=True)


class RetryBudget:
    """The waits between the retries of one client's calls (see the module docstring). ``spent``: the seconds
    spent on retries so far, waits and retried attempts both."""

    def __init__(self, retries: int, budget: float, backoff_base: float, backoff_cap: float) -> None:
        self.retries, self.budget = retries, budget
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.spent = 0.0

    def wait(self, error: Exception, attempt: int, started: float, at_least: float = 0.0) -> float | None:
        """The wait before retrying a call whose attempt ``attempt`` (0 for the first) began at ``started`` (a
        ``time.monotonic`` reading) and failed with the temporary ``error``; None when the call must give up, and
        then ``error`` says after how many retries and how much of the budget."""
        if attempt:        # a retried attempt's own time counts against the budget too
            self.spent += time.monotonic() - started
        delay = min(self.backoff_cap, self.backoff_base * 2**attempt)
        delay = max(delay / 2 + random.uniform(0, delay / 2), at_least)
        over = self.spent + delay > self.budget
        if attempt >= self.retries or over:
            if attempt or over:
                error.args = (f"{error} (gave up after {attempt} retries, {self.spent:.1f}s of the "
                              f"{self.budget:g}s retry budget spent)",)
            return None
        self.spent += delay
        return delay

    def log(self, who: str, op: str, error: Exception, attempt: int, delay: float) -> None:
        """Say at INFO that retry ``attempt`` (1 for the first) of ``op`` follows in ``delay`` seconds."""
        retry_log.info("%s: %s failed (%s); retry %d/%d in %.1fs (%.1fs of the %gs retry budget spent)",
                       who, op, error, attempt, self.retries, delay, self.spent, self.budget)
