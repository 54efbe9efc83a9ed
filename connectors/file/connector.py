"""A file-backed source: a snapshot of CUCM or AD users exported to JSON lines or CSV.

Sites that export users offline can sync from such files, and tests use it to feed the pipeline through the
same connector interface as the real sources. Every read is a full read; a file that cannot be read or parsed
yields an incomplete batch, so it never deactivates anyone.

Fields (JSON keys or CSV header), ``kind = "cucm"``: uuid, userid, mailid, firstname, lastname, status (1|2),
ldap_synced (true|false|empty). ``kind = "ad"``: guid, sAMAccountName, userPrincipalName, mail,
userAccountControl, accountExpires (ISO 8601 or empty), deleted, in_host_group.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.ad.records import AdUser
from connectors.base import Convert, SourceBatch, as_is
from connectors.cucm.records import CucmUser
from connectors.file.options import FileOptions


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
    return None if v is None or v == "" else str(v)


def _cucm(row: dict[str, Any]) -> CucmUser:
    return CucmUser(
        uuid=str(row["uuid"]).lower().strip("{}"), userid=str(row["userid"]), mailid=_str(row.get("mailid")),
        firstname=_str(row.get("firstname")), lastname=_str(row.get("lastname")), status=int(row["status"]),
        ldap_synced=_bool(row.get("ldap_synced")),
    )


def _ad(row: dict[str, Any]) -> AdUser:
    uac = row.get("userAccountControl")
    return AdUser(
        guid=str(row["guid"]).lower().strip("{}"), sam_account_name=_str(row.get("sAMAccountName")),
        user_principal_name=_str(row.get("userPrincipalName")), mail=_str(row.get("mail")),
        user_account_control=int(uac) if uac not in (None, "") else None,
        account_expires=_time(row.get("accountExpires")), deleted=bool(_bool(row.get("deleted"))),
        in_host_group=_bool(row.get("in_host_group")),
    )


def _what(e: Exception) -> str:
    """A parse error in one line: a CSV field over ``csv.field_size_limit`` is a ``csv.Error``, JSON nested deeper
    than the interpreter's recursion limit a ``RecursionError``."""
    if isinstance(e, KeyError):
        return f"missing field {e}"
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return (str(e).splitlines() or [type(e).__name__])[0]


# The row parser of each kind of record a file can hold.
_ROWS = {"cucm": _cucm, "ad": _ad}


class FileConnector:
    source_type = "file"

    def __init__(self, options: FileOptions) -> None:
        self.options = options
        self.name = options.name

    def _rows(self) -> Iterator[dict[str, Any]]:
        with Path(self.options.path).open(encoding="utf-8", newline="") as fh:
            if self.options.format == "csv":
                yield from csv.DictReader(fh)
                return
            for line in fh:
                if not line.strip():
                    yield {}
                    continue
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                yield obj

    def read(self, cursor: dict[str, Any] | None, full: bool, now: datetime,
             convert: Convert | None = None) -> SourceBatch:
        make = _ROWS[self.options.kind]
        convert = convert or as_is
        records: list[Any] = []
        n = 1   # the line (JSON lines) or data row (CSV) being read, for the error message
        try:
            for row in self._rows():
                if row:
                    records.append(convert(make(row)))
                n += 1
        except (OSError, UnicodeDecodeError) as e:
            return self._failed(f"cannot read {self.options.path}: {e.strerror if isinstance(e, OSError) else e}")
        except (ValueError, KeyError, TypeError, OverflowError, csv.Error, RecursionError) as e:
            what = _what(e)
            where = "row" if self.options.format == "csv" else "line"
            return self._failed(f"{self.options.path} {where} {n}: {what}")
        return SourceBatch(self.name, self.options.kind, records, complete=True, full=True, cursor=None)

    def _failed(self, error: str) -> SourceBatch:
        return SourceBatch(self.name, self.options.kind, [], complete=False, full=True, error=error)

    def close(self) -> None:
        pass
