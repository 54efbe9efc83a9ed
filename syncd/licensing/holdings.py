"""The holdings file of `syncd licenses import FILE` (DESIGN 12): one license a line, as
``email,kind,assigned_at[,first_grace_at][,expires_at]``.

UTF-8 (with or without a BOM) or UTF-16 with its BOM, as CWMS and WebEx exports are; comma- or tab-separated
(the first line decides); a first line whose first cell is ``email`` is a header. A time is a date (00:00 UTC)
or an ISO 8601 time with its UTC offset. With four cells the fourth is ``first_grace_at`` for a Grace license
and ``expires_at`` for the others. Every line is checked before any is used: a file with a bad line is refused
whole, every bad line named ("line N: ..."), exit 65; what the ledger allows is the policy's to say.
"""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, date, datetime

from connectors.emails import email_key
from policy import Holding, LicenseKind
from syncd import errors
from syncd.store import limits

MAX_LINES = limits.MAX_COUNT        # a site holds at most one license per account
_KINDS = {k.value: k for k in LicenseKind}
_HEADER = "email"


class HoldingsInvalid(errors.UserError):
    """A holdings file with lines that are not holdings: refused whole (exit 65), each line named."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"refused: {len(problems)} line{'s' if len(problems) != 1 else ''} of the file "
                         f"{'is' if len(problems) == 1 else 'are'} not valid; nothing is imported: "
                         + "; ".join(problems))
        self.problems = problems


def decode(data: bytes) -> str:
    """The file's text: UTF-16 by its BOM, else UTF-8 (a BOM dropped)."""
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise errors.UserError(f"the file is not {'UTF-16' if encoding == 'utf-16' else 'UTF-8'} text; save it "
                               "as UTF-8, or as UTF-16 with a BOM") from None


def parse(data: bytes) -> list[Holding]:
    """The holdings of a file's bytes; :class:`HoldingsInvalid` names every line that is not one."""
    text = decode(data)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if "\t" in first else ",")
    out: list[Holding] = []
    problems: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if not out and not problems and line == 1 and row[0].strip().casefold() == _HEADER:
                continue
            if len(out) + len(problems) >= MAX_LINES:
                raise errors.UserError(f"refused: the file holds more than {MAX_LINES:,} licenses, more than "
                                       "CWMS has accounts")
            try:
                out.append(holding(line, row))
            except ValueError as e:
                problems.append(f"line {line}: {e}")
    except csv.Error as e:
        problems.append(f"line {reader.line_num}: not CSV ({e})")
    if problems:
        raise HoldingsInvalid(problems)
    return out


def holding(line: int, row: list[str]) -> Holding:
    """The holding on ``line``; ValueError says what is wrong with it (never repeating a long value)."""
    cells = [c.strip() for c in row]
    if not 3 <= len(cells) <= 5:
        raise ValueError(f"{len(cells)} cells; expected email,kind,assigned_at[,first_grace_at][,expires_at]")
    raw, kind_text, assigned_text, *rest = cells
    person = email_key(raw)
    if person is None or not person.isprintable():
        raise ValueError("the first cell is not an e-mail address" if len(raw) <= limits.EMAIL
                         else f"the e-mail address has more than {limits.EMAIL} characters")
    kind = _KINDS.get(kind_text.casefold())
    if kind is None:
        raise ValueError(f"{person}: the kind is not one of {'|'.join(_KINDS)}")
    assigned = _time(assigned_text, "assigned_at", person)
    first_grace = expires = None
    if len(rest) == 2:
        first_grace = _time(rest[0], "first_grace_at", person) if rest[0] else None
        expires = _time(rest[1], "expires_at", person) if rest[1] else None
    elif rest and rest[0]:
        if kind is LicenseKind.GRACE:
            first_grace = _time(rest[0], "first_grace_at", person)
        else:
            expires = _time(rest[0], "expires_at", person)
    if first_grace is not None and kind is not LicenseKind.GRACE:
        raise ValueError(f"{person}: only a Grace license has a first_grace_at")
    if expires is not None and kind is LicenseKind.PERMANENT:
        raise ValueError(f"{person}: a Permanent license does not expire, but expires_at is given")
    if expires is not None and expires <= assigned:
        raise ValueError(f"{person}: expires_at is not after assigned_at")
    if first_grace is not None and first_grace > assigned:
        raise ValueError(f"{person}: first_grace_at is after assigned_at (the Grace window opens first)")
    return Holding(line, person, kind, assigned, first_grace, expires)


def _time(text: str, what: str, person: str) -> datetime:
    """A date (00:00 UTC) or an ISO 8601 time with its offset, within the store's range."""
    try:
        t = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    except ValueError:
        try:
            t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{person}: {what} is not a date or ISO 8601 time") from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{person}: {what} has no UTC offset")
    try:
        utc = t.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not limits.EARLIEST <= utc <= limits.LATEST:
        raise ValueError(f"{person}: {what} is out of range ({limits.EARLIEST.date()} to {limits.LATEST.date()})")
    return t
