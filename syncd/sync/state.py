"""What a sync plans against: the stored people and source facts, all of them or the scope of an incremental run."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from connectors.base import Role
from syncd.store import bulk, tables
from syncd.sync.plan import PersonRow, SourceFacts, SourceSpec


@dataclass
class StoredState:
    """What a run plans against. ``scope`` None: every stored person and fact; otherwise only the people with these
    e-mail keys and the facts that can bear on them (an incremental run), with ``ad_only`` counted in SQL."""

    people: dict[str, PersonRow]
    facts: dict[str, dict[str, Any]]
    active_count: int
    scope: set[str] | None = None
    ad_only: int = 0


def load_people(conn: Connection, emails: Collection[str] | None = None) -> dict[str, PersonRow]:
    t = tables.people
    stmt = select(t.c.email, t.c.active, t.c.deleted, t.c.management, t.c.in_cucm, t.c.ad_guid,
                  t.c.display_name, t.c.inactive_reason)
    if emails is None:
        return {r[0]: PersonRow(*r) for r in conn.execution_options(yield_per=20_000).execute(stmt)}
    out: dict[str, PersonRow] = {}
    for chunk in bulk.chunks(emails, bulk.IN_CHUNK):
        out.update((r[0], PersonRow(*r)) for r in conn.execute(stmt.where(t.c.email.in_(chunk))))
    return out


def load_state(conn: Connection, specs: Sequence[SourceSpec], reads: Mapping[str, SourceFacts],
               now: datetime, also: Collection[str] = ()) -> StoredState:
    """The stored state a run plans against: all of it when a source was read fully, else only what the run's
    changes can touch (see :func:`_affected`) and the people in ``also``, so that an incremental run costs what
    changed, not the size of the store."""
    if any(r.complete and r.full for r in reads.values()):
        return _load_all(conn, specs)
    types = {s.name: s.fact for s in specs}
    facts: dict[str, dict[str, Any]] = {s.name: {} for s in specs}
    scope = _affected(conn, specs, reads, facts, now) | set(also)
    people = load_people(conn, scope)
    t = tables.source_records
    cols = (t.c.source, t.c.source_key, t.c.email_key, t.c.data)
    wanted = (t.c.source.in_(list(types)),)
    _add_facts(facts, types, _select_in(conn, select(*cols).where(*wanted), t.c.email_key, scope))
    _add_facts(facts, types, _select_in(conn, select(*cols).where(*wanted), t.c.source_key,
                                        {p.ad_guid for p in people.values() if p.ad_guid}))
    ad = _names(specs, Role.ACCOUNTS)
    if ad and _matches_userid(specs):
        userids = {f.userid.casefold() for name in _names(specs, Role.PEOPLE) for f in facts[name].values()}
        _add_facts(facts, types, _select_in(conn, select(*cols).where(t.c.source.in_(ad)),
                                            t.c.data["sam"].as_string(), userids))
    p = tables.people
    active = conn.execute(select(func.count()).select_from(p).where(p.c.active.is_(True))).scalar_one()
    return StoredState(people, facts, active, scope, _ad_only(conn, ad) if ad else 0)


def _load_all(conn: Connection, specs: Sequence[SourceSpec]) -> StoredState:
    people = load_people(conn)
    types = {s.name: s.fact for s in specs}
    facts: dict[str, dict[str, Any]] = {s.name: {} for s in specs}
    t = tables.source_records
    stmt = select(t.c.source, t.c.source_key, t.c.email_key, t.c.data).where(t.c.source.in_(list(types)))
    _add_facts(facts, types, conn.execution_options(yield_per=20_000).execute(stmt))
    return StoredState(people, facts, sum(1 for p in people.values() if p.active))


def _affected(conn: Connection, specs: Sequence[SourceSpec], reads: Mapping[str, SourceFacts],
              facts: dict[str, dict[str, Any]], now: datetime) -> set[str]:
    """The e-mail keys whose state an incremental run can change; fills ``facts`` with the stored facts of the
    records it read. They are: the old and new e-mail of every record read or removed; people linked to, or
    matched by sAMAccountName with, an AD account that changed or whose expiry has passed since the last applied
    run (expiry writes nothing in AD); and every standing conflict (as the last applied run left them, see
    :func:`write_sources`), which is reported again each run."""
    types = {s.name: s.fact for s in specs}
    t = tables.source_records
    cols = (t.c.source, t.c.source_key, t.c.email_key, t.c.data)
    changed: list[Any] = []
    for name, r in reads.items():
        if not r.complete or name not in types:
            continue
        keys = [f.key for f in r.facts] + list(r.removed)
        _add_facts(facts, types, _select_in(conn, select(*cols).where(t.c.source == name), t.c.source_key, keys))
        changed.extend(r.facts)
        changed.extend(facts[name].values())
    ad = _names(specs, Role.ACCOUNTS)
    if ad:
        since = _last_applied(conn)
        stmt = select(*cols).where(t.c.source.in_(ad), t.c.data["expires"].as_string().is_not(None))
        for source, key, email, data in conn.execute(stmt):
            f = types[source].from_data(key, data, email)
            if f.expired_at(now) and (since is None or not f.expired_at(since)):
                facts[source][key] = f
                changed.append(f)
    emails = {f.email for f in changed if f.email}
    accounts = [f for f in changed if f.role is Role.ACCOUNTS]
    guids = {f.key for f in accounts}
    sams = {f.sam for f in accounts if f.sam}
    p = tables.people
    emails.update(e for (e,) in _select_in(conn, select(p.c.email), p.c.ad_guid, guids))
    if sams and _matches_userid(specs):
        people = _names(specs, Role.PEOPLE)
        userid = func.lower(t.c.data["userid"].as_string())
        emails.update(e for (e,) in _select_in(conn, select(t.c.email_key).where(t.c.source.in_(people)), userid,
                                               sams) if e)
    emails.update(e for (e,) in conn.execute(select(tables.conflicts.c.email_key)))
    return emails


def _last_applied(conn: Connection) -> datetime | None:
    """When the last run that planned and applied (or found nothing to apply) started: an AD expiry before it
    has been judged by that run already."""
    r = tables.runs
    return conn.execute(select(func.max(r.c.started_at)).where(
        r.c.mode == "apply", r.c.result.in_(("applied", "no_changes")))).scalar_one_or_none()


def _ad_only(conn: Connection, ad: Sequence[str]) -> int:
    """AD accounts (not deleted) that no person is linked to, as stored."""
    t, p = tables.source_records, tables.people
    linked = select(p.c.id).where(p.c.ad_guid == t.c.source_key).exists()
    stmt = select(func.count()).select_from(t).where(
        t.c.source.in_(list(ad)), t.c.data["deleted"].as_boolean().is_not(True), ~linked)
    return int(conn.execute(stmt).scalar_one())


def _names(specs: Sequence[SourceSpec], role: Role) -> list[str]:
    return [s.name for s in specs if s.role is role]


def _matches_userid(specs: Sequence[SourceSpec]) -> bool:
    return any("userid" in s.match for s in specs if s.role is Role.ACCOUNTS)


def _add_facts(facts: dict[str, dict[str, Any]], types: Mapping[str, Any], rows: Iterable[Any]) -> None:
    """Stored facts, each made by its source's fact class (``types``: source name -> fact class)."""
    for source, key, email, data in rows:
        if key not in facts[source]:
            facts[source][key] = types[source].from_data(key, data, email)


def _select_in(conn: Connection, stmt: Any, column: Any, values: Collection[Any]) -> Iterator[Any]:
    """Rows of ``stmt`` whose ``column`` is one of ``values``, asked in chunks (a database caps its parameters)."""
    for chunk in bulk.chunks(values, bulk.IN_CHUNK):
        yield from conn.execute(stmt.where(column.in_(chunk)))
