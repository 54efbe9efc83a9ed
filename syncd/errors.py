"""Exit codes (DESIGN.md section 9) and the user-facing errors that map to them."""

from __future__ import annotations

OK = 0
CHANGES_PENDING = 1
USAGE = 2
SAFETY_REFUSED = 3
HOST_REFUSED = 4
UNKNOWN_OR_REFUSED = 65     # unknown person or a refused admin action
SOURCE_UNAVAILABLE = 69
INTERNAL = 70               # EX_SOFTWARE: an unexpected exception, a bug to report
DATABASE = 74               # database unavailable or disk full
LOCKED = 75                 # another run holds the lock
CONFIG = 78
INTERRUPTED = 130           # 128 + SIGINT: Ctrl-C
BROKEN_PIPE = 141           # 128 + SIGPIPE: the reader of stdout closed it (`syncd ... | head`)


class UserError(Exception):
    """An error caused by input or environment, reported as one line on stderr with its exit code."""

    exit_code = UNKNOWN_OR_REFUSED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UnknownPerson(UserError):
    exit_code = UNKNOWN_OR_REFUSED

    def __init__(self, email: str) -> None:
        super().__init__(f"unknown person: {email}")


class UsageError(UserError):
    exit_code = USAGE


def sync_exit_code(result: str, refused: bool, failed_sources: bool, pending: bool) -> int:
    """Exit precedence for a sync: 3 > 69 > 1 > 0 (DESIGN.md section 11)."""
    if refused:
        return SAFETY_REFUSED
    if failed_sources or result == "failed":
        return SOURCE_UNAVAILABLE
    if pending:
        return CHANGES_PENDING
    return OK
