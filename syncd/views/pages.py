"""Keyset pages of people and of the journal, for the dashboard and ``GET /api/v1/people`` / ``/api/v1/journal``.

Each page is one indexed range: people by e-mail after the last one shown (``people.email`` is unique, hence
indexed), journal rows by id before the last one shown. No OFFSET (it would walk every earlier row) and no
Python-side filtering of the whole table, so a page costs the same at the first person and the 400,000th.

A search ``q`` matches an e-mail by its start, a CUCM userid exactly and a display name by the start of its
first or its last word (all case-insensitively; on SQLite, whose ``lower`` knows only ASCII, a name's other
letters by exact case): "smi" finds smith@example.com and "Ann Smith", "jdoe" the CUCM user jdoe. Each is one
index range (the e-mail's, and migration 0009's on the lower-cased name, its last word and the CUCM records'
lower-cased userid: syncd/store/search.py), so a search costs about the same at 400,000 people as at 400; a
middle name, or a name's middle, is not matched (no index serves that on both databases).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from connectors.emails import email_key
from syncd.store import tables
from syncd.store.search import last_word_key, name_key, userid_key
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
    for name in (name_key(_p.c.display_name), last_word_key(_p.c.display_name)):
        if conn.dialect.name == "sqlite":       # its lower() and its index order are bytes: a range of the index
            start = "".join(c.lower() if c.isascii() else c for c in text)
            queries.append(stmt.where(name >= start, name < start + "\uffff"))
        else:                                   # LIKE 'start%' on a text_pattern_ops index, whatever the collation
            queries.append(stmt.where(name.like(_like_escape(text.lower()) + "%", escape="\\")))
    cucm = _cucm_sources(rt)
    if cucm:
        owners = select(_sr.c.email_key).where(_sr.c.source.in_(cucm), _sr.c.email_key.is_not(None),
                                               userid_key(_sr.c.data) == text.lower())
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

