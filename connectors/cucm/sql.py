"""The Informix SQL the connector sends through executeSQLQuery (read-only SELECTs on ``enduser``).

Only values the connector itself validated are interpolated: pkids must look like GUIDs, page sizes are ints.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

COLUMNS = ("pkid", "userid", "mailid", "firstname", "lastname", "status", "fkdirectorypluginconfig", "islocaluser")
FLAG_COLUMNS = ("pkid", "fkdirectorypluginconfig", "islocaluser")
_PKID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _pkid(value: str) -> str:
    if not _PKID_RE.match(value):
        raise ValueError(f"not a CUCM pkid: {value!r}")
    return f"'{value}'"


def page_after(last_pkid: str | None, first: int, columns: Sequence[str] = COLUMNS) -> str:
    """One keyset page: ``FIRST n`` rows with ``pkid > last`` in pkid order (stable while users change)."""
    where = f" WHERE pkid > {_pkid(last_pkid)}" if last_pkid else ""
    return f"SELECT FIRST {int(first)} {', '.join(columns)} FROM enduser{where} ORDER BY pkid"


def by_pkids(pkids: Sequence[str], columns: Sequence[str] = COLUMNS) -> str:
    """The rows of the given users (lower-case pkids)."""
    keys = ", ".join(_pkid(p) for p in pkids)
    return f"SELECT {', '.join(columns)} FROM enduser WHERE pkid IN ({keys}) ORDER BY pkid"
