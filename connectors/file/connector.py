"""A file-backed source: a snapshot of CUCM or AD users exported to JSON lines or CSV.

Sites that export users offline can sync from such files, and tests use it to feed the pipeline through the
same connector interface as the real sources. Every read is a full read; a file that cannot be read or parsed
yields an incomplete batch, so it never deactivates anyone.

Fields (JSON keys or CSV header), ``kind = "cucm"``: uuid, userid, mailid, firstname, lastname, status (1|2),
ldap_synced (true|false|empty). ``kind = "ad"``: guid, sAMAccountName, userPrincipalName, mail,
userAccountControl, accountExpires (ISO 8601 or empty), deleted, in_host_group.

What is refused, and how much of the read goes with it:

- the whole file (an incomplete read): a file that cannot be read or decoded (UTF-8, a byte-order mark is
  dropped), a line that is not a JSON object, a CSV error, a CSV header that names a column twice or lacks a
  required one (``uuid``, ``userid`` and ``status``; ``guid``);
- one record (an ``Invalid``, skipped, counted and named by line and key): a key (uuid, guid) that is missing,
  null, empty or not a string, a required field missing or null, a value that is a JSON object or array, a JSON
  object naming a field twice, a CSV row with more or fewer fields than the header, a value that does not convert
  (a status other than 1 or 2, a boolean, a number, a time), and whatever the fact's own checks refuse.

A record refused before its key could be read cannot keep its stored fact, and its absence cannot be told from a
person leaving the export: a read with such a record is applied as a partial read (nobody removed by absence).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.ad.records import AdUser
from connectors.base import Convert, Invalid, SourceBatch, as_is
from connectors.cucm.records import CucmUser
from connectors.file.options import FileOptions


class _Unparseable(ValueError):
    """The file as a whole cannot be read as records (its CSV header); the message says why."""


class _BadRecord(Exception):
    """One record cannot be read: why, and its key when it was read before the problem ("" when not). Not a
    ValueError: it never fails the file."""

    def __init__(self, reason: str, key: str = "") -> None:
        super().__init__(reason)
        self.reason, self.key = reason, key


def _bool(v: Any) -> bool | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("1", "true", "yes", "y"):
        return True
    if s in ("0", "false", "no", "n"):
        return False
    raise ValueError(f"not a boolean: {v!r}")


def _time(v: Any) -> datetime | None:
    if v is None or v == "":
        return None
    t = datetime.fromisoformat(str(v))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _str(v: Any) -> str | None:
    """Text, from a JSON string or number (a boolean is no text)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ValueError(f"not text: {v!r}")
    return str(v)


def _int(v: Any) -> int | None:
    """An integer, from a JSON integer or a text of digits (a float, a boolean or other text is refused)."""
    if v is None or v == "":
        return None
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise ValueError(f"not an integer: {v!r}")
    return int(v)


def _text(v: Any) -> str:
    """A required text: null is refused, an empty one is ""."""
    if v is None:
        raise ValueError("missing")
    return _str(v) or ""


def _status(v: Any) -> int:
    """1 or 2; anything else would be taken for a status it is not (CucmFact refuses other numbers too)."""
    if v is None or v == "":
        raise ValueError("missing")
    status = _int(v)
    if status not in (1, 2):
        raise ValueError(f"{status} is neither 1 nor 2")
    return status


def _field(row: dict[str, Any], name: str, conv: Callable[[Any], Any]) -> Any:
    """``conv`` of the field ``name``; raises _BadRecord naming the field when it is no scalar or does not
    convert."""
    v = row.get(name)
    if isinstance(v, dict | list):
        raise _BadRecord(f"{name} is {_json_type(v)}")
    try:
        return conv(v)
    except (ValueError, TypeError, OverflowError) as e:
        raise _BadRecord(f"{name}: {_what(e)}") from None


def _cucm(row: dict[str, Any], key: str) -> CucmUser:
    return CucmUser(
        uuid=key, userid=_field(row, "userid", _text), mailid=_field(row, "mailid", _str),
        firstname=_field(row, "firstname", _str), lastname=_field(row, "lastname", _str),
        status=_field(row, "status", _status), ldap_synced=_field(row, "ldap_synced", _bool),
    )


def _ad(row: dict[str, Any], key: str) -> AdUser:
    return AdUser(
        guid=key, sam_account_name=_field(row, "sAMAccountName", _str),
        user_principal_name=_field(row, "userPrincipalName", _str), mail=_field(row, "mail", _str),
        user_account_control=_field(row, "userAccountControl", _int),
        account_expires=_field(row, "accountExpires", _time), deleted=bool(_field(row, "deleted", _bool)),
        in_host_group=_field(row, "in_host_group", _bool),
    )


@dataclass(frozen=True, slots=True)
class _Kind:
    """How a file holds one kind of record: its key field, the columns a CSV header must name, and the row parser
    (given the row and its key)."""

    key: str
    required: tuple[str, ...]
    make: Callable[[dict[str, Any], str], Any]


_KINDS = {"cucm": _Kind("uuid", ("uuid", "userid", "status"), _cucm), "ad": _Kind("guid", ("guid",), _ad)}


def _key(v: Any, name: str) -> str:
    """The record key, lower-case and without braces: a string with something in it."""
    if v is None:
        raise _BadRecord(f"{name} is missing")
    if not isinstance(v, str):
        raise _BadRecord(f"{name} is {_json_type(v)}, not a string")
    key = v.lower().strip("{}")
    if not key.strip():
        raise _BadRecord(f"{name} is empty")
    return key


def _json_type(v: Any) -> str:
    return {dict: "a JSON object", list: "a JSON array", bool: "a boolean"}.get(type(v), "a number")


def _record(kind: _Kind, row: dict[str, Any]) -> Any:
    """The record of ``row``; raises _BadRecord when it cannot be one."""
    key = _key(row.get(kind.key), kind.key)
    try:
        return kind.make(row, key)
    except _BadRecord as e:
        e.key = key
        raise


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that names no field twice (json.loads would keep the last, unseen)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = [k for k, _ in pairs]
        twice = next(k for i, k in enumerate(names) if k in names[:i])
        raise _BadRecord(f"field {twice!r} given twice")
    return obj


def _what(e: Exception) -> str:
    """A parse error in one line: a CSV field over ``csv.field_size_limit`` is a ``csv.Error``, JSON nested deeper
    than the interpreter's recursion limit a ``RecursionError``."""
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return (str(e).splitlines() or [type(e).__name__])[0]


# A row of the file: its line and its fields, or why it has none.
Row = tuple[int, dict[str, Any] | _BadRecord]


class FileConnector:
    source_type = "file"

    def __init__(self, options: FileOptions) -> None:
        self.options = options
        self.name = options.name
        self.kind = _KINDS[options.kind]

    def _rows(self) -> Iterator[Row]:
        """The rows, each with its line; raises _Unparseable (naming the line) for a file that has no rows."""
        with Path(self.options.path).open(encoding="utf-8-sig", newline="") as fh:
            if self.options.format == "csv":
                yield from self._csv_rows(csv.reader(fh))
                return
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line, object_pairs_hook=_object)
                except _BadRecord as e:
                    yield n, e
                    continue
                except (ValueError, RecursionError) as e:
                    raise _Unparseable(f"line {n}: {_what(e)}") from None
                if not isinstance(obj, dict):
                    raise _Unparseable(f"line {n}: not a JSON object")
                yield n, obj

    def _csv_rows(self, reader: Any) -> Iterator[Row]:
        try:
            header = next(reader, None)
            if header is None:
                return
            twice = sorted({h for h in header if header.count(h) > 1})
            if twice:
                raise _Unparseable(f"line 1 (header): column {twice[0]!r} named twice")
            missing = [c for c in self.kind.required if c not in header]
            if missing:
                raise _Unparseable(f"line 1 (header): no column {missing[0]!r}")
            for fields in reader:
                if not fields:          # a blank line
                    continue
                if len(fields) != len(header):
                    yield reader.line_num, _BadRecord(f"{len(fields)} fields where the header names {len(header)}")
                else:
                    yield reader.line_num, dict(zip(header, fields, strict=True))
        except csv.Error as e:
            raise _Unparseable(f"line {reader.line_num}: {_what(e)}") from None

    def read(self, cursor: dict[str, Any] | None, full: bool, now: datetime,
             convert: Convert | None = None) -> SourceBatch:
        convert = convert or as_is
        records: list[Any] = []
        keyless = 0
        try:
            for n, row in self._rows():
                try:
                    if isinstance(row, _BadRecord):
                        raise row
                    made = convert(_record(self.kind, row))
                except _BadRecord as e:
                    keyless += not e.key
                    records.append(Invalid(e.key, f"line {n}: {e.reason}"))
                    continue
                if type(made) is Invalid:
                    made = Invalid(made.key, f"line {n}: {made.reason}")
                records.append(made)
        except (OSError, UnicodeDecodeError) as e:
            return self._failed(f"cannot read {self.options.path}: {e.strerror if isinstance(e, OSError) else e}")
        except _Unparseable as e:
            return self._failed(f"{self.options.path} {e}")
        if keyless:
            return SourceBatch(self.name, self.options.kind, records, complete=True, full=False, cursor=None,
                               notes=[f"{keyless} records without a usable key: nobody is removed by absence"])
        return SourceBatch(self.name, self.options.kind, records, complete=True, full=True, cursor=None)

    def _failed(self, error: str) -> SourceBatch:
        return SourceBatch(self.name, self.options.kind, [], complete=False, full=True, error=error)

    def close(self) -> None:
        pass
