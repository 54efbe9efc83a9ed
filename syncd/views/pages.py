"""Keyset pages of people and of the journal, for the dashboard and ``GET /api/v1/people`` / ``/api/v1/journal``.

Each page is one indexed range: people by e-mail after the last one shown (``people.email`` is unique, hence
indexed), journal rows by id before the last one shown. No OFFSET (it would walk every earlier row) and no
Python-side filtering of the whole table, so a page costs the same at the first person and the 400,000th.

A search ``q`` matches an e-mail by prefix (the index range), a CUCM userid exactly and a display name anywhere
in it (both case-insensitively). A name is matched by walking the e-mail index until the page is full, so a
common name fills its page at once; a name nobody has reads every person once, in SQL. A userid is read from the
CUCM records' stored data, which no index holds: one pass over those records, in SQL (an expression index on it
would need a migration per database dialect).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from connectors.emails import email_key
from syncd.store import tables
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime

PAGE = 50
MAX_PAGE = 500
STATES = ("active", "inactive")
LICENSES = ("none", "trial", "permanent", "grace", "demonstration")

_p, _lic, _sr, _j = tables.people, tables.licenses, tables.source_records, tables.journal


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _cucm_sources(rt: Runtime) -> list[str]:
    return [s.name for s in source_specs(rt.config) if s.type == "cucm"]


def _userid() -> Any:
    """A CUCM record's userid, lower-cased, from its stored data (``json_extract`` on SQLite, ``->>`` on
    PostgreSQL)."""
    return func.lower(_sr.c.data["userid"].as_string())


def _searched(rt: Runtime, conn: Any, stmt: Any, q: str, limit: int) -> list[Any]:
    """The first ``limit`` + 1 rows of ``stmt`` (ordered by e-mail) that ``q`` matches (module docstring): one
    query per way of matching, each its own range or walk, merged by e-mail (an OR of them would make every
    search walk the whole table)."""
    text = q.strip()
    key = email_key(text) or text.casefold()
    queries = [stmt.where(_p.c.email >= key, _p.c.email < key + "\uffff",
                          _p.c.email.like(_like_escape(key) + "%", escape="\\"))]
    if "@" in text:         # an address: neither a name nor a userid has one
        return list(conn.execute(queries[0]).all())
    pattern = "%" + _like_escape(text) + "%"
    # SQLite's LIKE ignores case already (ASCII, as its lower() does); PostgreSQL's ILIKE ignores it for all
    names = _p.c.display_name.like if conn.dialect.name == "sqlite" else _p.c.display_name.ilike
    queries.append(stmt.where(names(pattern, escape="\\")))
    cucm = _cucm_sources(rt)
    if cucm:
        owners = select(_sr.c.email_key).where(_sr.c.source.in_(cucm), _sr.c.email_key.is_not(None),
                                               _userid() == text.lower())
        queries.append(stmt.where(_p.c.email.in_(owners)))
    rows: dict[str, Any] = {}
    for query in queries:
        for r in conn.execute(query):
            rows.setdefault(r.email, r)
    return [rows[k] for k in sorted(rows)][:limit + 1]


def people_page(rt: Runtime, q: str | None = None, state: str | None = None, license_kind: str | None = None,
                after: str | None = None, limit: int = PAGE) -> dict[str, Any]:
    """``{"people": [{"email", "name", "active", "management", "in_cucm", "conflict", "license": null |
    {"kind", "state", "expires_at"}, "userids": [...]}], "next": EMAIL | null}``: up to ``limit`` people by
    e-mail after ``after`` matching the search and filters; ``next`` is the ``after`` of the next page."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (select(_p.c.email, _p.c.display_name, _p.c.active, _p.c.management, _p.c.in_cucm, _lic.c.kind,
                   _lic.c.state, _lic.c.expires_at)
            .select_from(_p.outerjoin(_lic, _lic.c.person_id == _p.c.id)).order_by(_p.c.email).limit(limit + 1))
    if after:
        stmt = stmt.where(_p.c.email > after)
    if state in STATES:
        stmt = stmt.where(_p.c.active.is_(state == "active"))
    if license_kind == "none":
        stmt = stmt.where(_lic.c.kind.is_(None))
    elif license_kind in LICENSES:
        stmt = stmt.where(_lic.c.kind == license_kind)
    with rt.engine.connect() as conn:
        rows = _searched(rt, conn, stmt, q, limit) if q and q.strip() else conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        keys = [r.email for r in rows]
        userids: dict[str, list[str]] = {}
        conflicts: set[str] = set()
        if keys:
            cucm = _cucm_sources(rt)
            for email, data in conn.execute(select(_sr.c.email_key, _sr.c.data).where(
                    _sr.c.source.in_(cucm), _sr.c.email_key.in_(keys))) if cucm else ():
                userids.setdefault(email, []).append(data.get("userid"))
            c = tables.conflicts
            conflicts = set(conn.execute(select(c.c.email_key).where(c.c.email_key.in_(keys))).scalars())
    people = [{"email": r.email, "name": r.display_name, "active": r.active, "management": r.management,
               "in_cucm": r.in_cucm, "conflict": r.email in conflicts,
               "license": None if r.kind is None else {"kind": r.kind, "state": r.state,
                                                       "expires_at": iso(r.expires_at)},
               "userids": sorted(u for u in userids.get(r.email, []) if u)} for r in rows]
    return {"people": people, "next": keys[-1] if more else None}


def journal_page(rt: Runtime, person: str | None = None, event: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, before: int | None = None, limit: int = PAGE) -> dict[str, Any]:
    """``{"rows": [journal rows as `journal --json`, newest first], "next": ID | null}``: up to ``limit`` rows
    before id ``before`` (the previous page's ``next``), of one person (its e-mail key), one event, from
    ``since`` and before ``until``."""
    limit = max(1, min(limit, MAX_PAGE))
    stmt = select(_j).order_by(_j.c.id.desc()).limit(limit + 1)
    if person:
        stmt = stmt.where(_j.c.person == (email_key(person) or person.strip()))
    if event:
        stmt = stmt.where(_j.c.event == event)
    if since is not None:
        stmt = stmt.where(_j.c.at >= since)
    if until is not None:
        stmt = stmt.where(_j.c.at < until)
    if before is not None:
        stmt = stmt.where(_j.c.id < before)
    with rt.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"rows": [{"id": r.id, "at": iso(r.at), "run_id": r.run_id, "actor": r.actor, "person": r.person,
                      "event": r.event, "source": r.source, "rule": r.rule, "sentence": r.sentence,
                      "before": r.before, "after": r.after} for r in rows],
            "next": rows[-1].id if more and rows else None}

