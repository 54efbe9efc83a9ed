"""Every value an admin or a client hands syncd, from the command line or the HTTP API, checked against the
limits of the store (:mod:`syncd.store.limits`) before it reaches a query or the policy.

A value the store cannot hold is a usage error (exit 2, HTTP 400) with a message, never a database error or a
traceback. Messages never repeat the value: it may be too long for one line, or not printable at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from syncd import errors
from syncd.store import limits

# C0 and C1 controls (NUL among them: PostgreSQL cannot store it in text), and the lone surrogates that stand for
# bytes that are not UTF-8 (Python's surrogateescape of a command line argument, or a "\udcff" JSON escape).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text(value: str, what: str, limit: int) -> str:
    """``value`` when the store can hold it as ``what``: at most ``limit`` characters, no control character,
    valid Unicode."""
    if len(value) > limit:
        raise errors.UsageError(f"{what} has {len(value)} characters, more than {limit}")
    if _SURROGATE.search(value):
        raise errors.UsageError(f"{what} is not valid UTF-8 text")
    if _CONTROL.search(value):
        raise errors.UsageError(f"{what} contains a control character")
    return value


def email(value: str) -> str:
    """An e-mail address given to look a person up, without the blanks around it (the person key drops them)."""
    return text(value.strip(), "e-mail address", limits.EMAIL)


def meeting_id(value: str) -> str:
    return text(value, "meeting id", limits.MEETING_ID)


def grant_id(value: str) -> str:
    return text(value, "grant id", limits.GRANT_ID)


def run_id(value: str) -> str:
    return text(value, "run id", limits.RUN_ID)


def source_name(value: str) -> str:
    return text(value, "source name", limits.SOURCE)


def whole_number(value: int, what: str, most: int) -> int:
    if not 1 <= value <= most:
        raise errors.UsageError(f"{what} must be from 1 to {most:,}")
    return value


def count(value: int) -> int:
    """A count of licenses or users: at most CWMS's own maximum of accounts."""
    return whole_number(value, "count", limits.MAX_COUNT)


def installed(value: int) -> int:
    """`licenses set-installed N`: from 0 (no Permanent license installed) to CWMS's maximum of accounts."""
    if not 0 <= value <= limits.MAX_COUNT:
        raise errors.UsageError(f"count must be from 0 to {limits.MAX_COUNT:,}")
    return value


def row_limit(value: int) -> int:
    return whole_number(value, "limit", limits.MAX_ROWS)


def time(value: datetime) -> datetime:
    """An aware time within the range every expiry computed from it stays representable in."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not limits.EARLIEST <= utc <= limits.LATEST:
        raise errors.UsageError(f"time out of range: must be from {limits.EARLIEST.date()} to "
                                f"{limits.LATEST.date()} (UTC)")
    return value


def purchase_total(installed: int, added: int) -> None:
    """Refuse a purchase that would install more Permanent licenses than CWMS has accounts (an admin action
    refused, exit 65: the count is valid, the site's total is not)."""
    if installed + added > limits.MAX_COUNT:
        raise errors.UserError(f"refused: {installed:,} Permanent Host licenses are installed; {added:,} more would "
                               f"exceed CWMS's maximum of {limits.MAX_COUNT:,} accounts")
