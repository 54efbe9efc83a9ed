"""The small Informix SELECT subset the simulator answers (what syncd and an admin's quick checks send).

``SELECT [SKIP n] [FIRST m] col, ... FROM enduser [alias] [WHERE pkid > 'x' | pkid IN ('a', ...) | status = n]
[ORDER BY pkid]``. Anything else is answered with an Informix-style error, as CUCM does for bad SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .render import SQL_COLUMNS

_SELECT = re.compile(
    r"^\s*select\s+(?:skip\s+(?P<skip>\d+)\s+)?(?:first\s+(?P<first>\d+)\s+)?(?P<cols>.+?)\s+from\s+enduser"
    r"(?:\s+(?!where\b|order\b)(?P<alias>\w+))?(?:\s+where\s+(?P<where>.+?))?"
    r"(?:\s+order\s+by\s+(?:\w+\.)?pkid(?:\s+asc)?)?\s*;?\s*$",
    re.I | re.S,
)
_AFTER = re.compile(r"^(?:\w+\.)?pkid\s*>\s*'([0-9a-f-]{36})'$", re.I)
_IN = re.compile(r"^(?:\w+\.)?pkid\s+in\s*\((.*)\)$", re.I | re.S)
_STATUS = re.compile(r"^(?:\w+\.)?status\s*=\s*'?(\d+)'?$", re.I)
_QUOTED = re.compile(r"^'([0-9a-f-]{36})'$", re.I)


class SqlError(ValueError):
    """Bad or unsupported SQL; ``code`` is the Informix error number CUCM reports."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Query:
    columns: tuple[str, ...]
    skip: int
    first: int | None
    after: str | None = None
    pkids: tuple[str, ...] | None = None
    status: int | None = None


def parse(sql: str) -> Query:
    m = _SELECT.match(sql)
    if not m:
        raise SqlError(-201, "A syntax error has occurred.")
    cols: list[str] = []
    for raw in m.group("cols").split(","):
        col = raw.strip().lower()
        col = col.split(".", 1)[1] if "." in col else col
        if col not in SQL_COLUMNS:
            raise SqlError(-217, f"Column ({col}) not found in any table in the query (or SLV is undefined).")
        cols.append(col)
    q = Query(tuple(cols), int(m.group("skip") or 0), int(m.group("first")) if m.group("first") else None)
    where = (m.group("where") or "").strip()
    if not where:
        return q
    if a := _AFTER.match(where):
        return Query(q.columns, q.skip, q.first, after=a.group(1).lower())
    if a := _IN.match(where):
        keys = []
        for part in a.group(1).split(","):
            k = _QUOTED.match(part.strip())
            if not k:
                raise SqlError(-201, "A syntax error has occurred.")
            keys.append(k.group(1).lower())
        return Query(q.columns, q.skip, q.first, pkids=tuple(keys))
    if a := _STATUS.match(where):
        return Query(q.columns, q.skip, q.first, status=int(a.group(1)))
    raise SqlError(-201, "A syntax error has occurred.")
