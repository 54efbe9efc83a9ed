"""`users list` / `users show` and ``GET /api/v1/people/{email}``: people with their sources and license.

`users list` streams: it reads the people in batches by e-mail (a keyset, so each batch is one index range on
both databases and no cursor or transaction stays open between them) and each batch's source records in one or
two more queries, and yields person by person: its memory is one batch whatever the number of people, and the
first lines print at once. Times and record data are read as the driver returns them and converted here (see
:func:`_iso`), which is most of what makes the list fast (README, Scale and reliability).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic_core import from_json
from sqlalchemy import String, func, select, type_coerce

from connectors.emails import email_key
from syncd import errors
from syncd.push.adopt import SOURCE as CWMS_FACTS
from syncd.store import tables
from syncd.sync.reconcile import source_specs

if TYPE_CHECKING:
    from syncd.runtime import Runtime

LIST_BATCH = 2000     # people per query of `users list` (and the records of as many, in one or two more)


def people_query() -> Any:
    """People joined with the license each holds (none: the license columns are NULL)."""
    p, lic = tables.people, tables.licenses
    return select(p, lic.c.kind, lic.c.state, lic.c.management.label("lic_management"), lic.c.assigned_at,
                  lic.c.expires_at).select_from(p.outerjoin(lic, lic.c.person_id == p.c.id))


def person_row(conn: Any, email: str) -> Any:
    """The ``people_query`` row of ``email``; UnknownPerson when nobody has that address."""
    key = email_key(email)
    row = conn.execute(people_query().where(tables.people.c.email == key)).first() if key else None
    if row is None:
        raise errors.UnknownPerson(email.strip())
    return row


def person_counts(conn: Any) -> dict[str, int]:
    """How many people are active and inactive."""
    p = tables.people
    counts = {bool(active): int(n) for active, n in conn.execute(select(p.c.active, func.count())
                                                                 .group_by(p.c.active))}
    return {"active": counts.get(True, 0), "inactive": counts.get(False, 0)}


def _raw(col: Any) -> Any:
    """A column as the driver returns it, without SQLAlchemy's conversion (done by :func:`_iso`, :func:`_data`)."""
    return type_coerce(col, String()).label(col.name)


def _iso(v: datetime | str | None) -> str | None:
    """A stored time as ISO 8601 in UTC, as `syncd.views.common.iso` of the aware time: SQLite's driver returns
    the naive UTC text the store writes (syncd.store.types.UTCDateTime), PostgreSQL's an aware datetime."""
    if v is None:
        return None
    if isinstance(v, str):
        if len(v) == 26 and v[10] == " ":      # "YYYY-MM-DD HH:MM:SS.ffffff", as SQLAlchemy writes it: 5x faster
            return f"{v[:10]}T{v[11:19] if v.endswith('.000000') else v[11:]}+00:00"
        return datetime.fromisoformat(v).replace(tzinfo=UTC).isoformat()
    return v.astimezone(UTC).isoformat()


def _driver_rows(conn: Any, stmt: Any) -> list[Sequence[Any]]:
    """The rows of ``stmt`` as the driver returns them (tuples): building SQLAlchemy's Row objects was a fifth of a
    listing's time. Nothing is converted, so the columns must be ones read raw (:func:`_raw`) or plain values,
    and booleans come as 0/1 from SQLite (``bool`` makes them so)."""
    result = conn.execute(stmt)
    try:
        return result.cursor.fetchall()       # type: ignore[no-any-return]
    finally:
        result.close()


def _data(v: dict[str, Any] | str) -> dict[str, Any]:
    """A record's stored data: JSON text on SQLite (decoded by pydantic's parser, 6x faster than ``json``; ``json``
    takes what it refuses, such as an escaped lone surrogate), already decoded on PostgreSQL."""
    if not isinstance(v, str):
        return v
    try:
        data: dict[str, Any] = from_json(v)
    except ValueError:
        data = json.loads(v)
    return data


_p, _lic, _sr = tables.people, tables.licenses, tables.source_records

# The columns of a person's JSON, in this order (unpacked by _person_dict).
_PERSON = select(_p.c.email, _p.c.display_name, _p.c.active, _p.c.deleted, _p.c.management, _p.c.in_cucm,
                 _p.c.inactive_reason, _raw(_p.c.last_hosted_at), _raw(_p.c.first_grace_at), _lic.c.kind,
                 _lic.c.state, _lic.c.management.label("lic_management"), _raw(_lic.c.assigned_at),
                 _raw(_lic.c.expires_at), _p.c.ad_guid).select_from(_p.outerjoin(_lic, _lic.c.person_id == _p.c.id))

# A record's columns (unpacked by _grouped), after the e-mail it is listed under.
_RECORD = (_sr.c.source, _sr.c.source_key, _sr.c.active, _raw(_sr.c.seen_at), _raw(_sr.c.data))


def _person_dict(row: Sequence[Any], sources: dict[str, Any], conflict: bool) -> dict[str, Any]:
    (email, name, active, deleted, management, in_cucm, reason, hosted, grace, kind, state, lic_management,
     assigned, expires, _) = row
    lic = None
    if kind is not None:
        lic = {"kind": kind, "state": state, "management": lic_management, "assigned_at": _iso(assigned),
               "expires_at": _iso(expires)}
    return {
        "email": email, "name": name, "active": bool(active), "deleted": bool(deleted), "management": management,
        "in_cucm": bool(in_cucm), "inactive_reason": reason, "license": lic, "last_hosted_at": _iso(hosted),
        "first_grace_at": _iso(grace), "sources": sources, "known": True, "conflict": conflict,
    }


def _conflict_only(key: str, sources: dict[str, Any]) -> dict[str, Any]:
    """`users show` of an address in conflict that no person has: the records that share it (the person fields
    are null: every sync leaves the address alone until one record keeps it)."""
    return {"email": key, "name": None, "active": None, "deleted": None, "management": None, "in_cucm": None,
            "inactive_reason": None, "license": None, "last_hosted_at": None, "first_grace_at": None,
            "sources": sources, "known": False, "conflict": True}


def _grouped(rows: Sequence[Any]) -> dict[str, Any]:
    """Records as the `users show` sources: one dict per source, or a list of them when one e-mail is in a
    source twice (a conflict). ``rows``: (listed under, source, key, active, seen_at, data), sorted by source
    and key."""
    out: dict[str, Any] = {}
    for _, source, key, active, seen_at, data in rows:
        entry = {"key": key, "active": bool(active), "seen_at": _iso(seen_at), **_data(data)}
        if source in out:
            prev = out[source]
            out[source] = (prev if isinstance(prev, list) else [prev]) + [entry]
        else:
            out[source] = entry
    return out


def _source_names(rt: Runtime) -> list[str]:
    names = [s.name for s in source_specs(rt.config)]   # leads both indexes: (source, email_key), (source, source_key)
    return names + ([CWMS_FACTS] if rt.config.cwms is not None else [])


def sources_of(conn: Any, rt: Runtime, key: str, ad_guid: str | None) -> dict[str, Any]:
    """The person's records in the configured sources (by e-mail, and the linked AD account by GUID)."""
    cond = _sr.c.email_key == key
    if ad_guid:
        cond = cond | (_sr.c.source_key == ad_guid)
    # sorted here, not by ORDER BY source, source_key: SQLite would walk the primary key for it, every record of
    # the source (0.13 s at 400,000 people), instead of the (source, email_key) index
    return _grouped(sorted(conn.execute(select(_sr.c.email_key, *_RECORD).where(
        _sr.c.source.in_(_source_names(rt)), cond)).all(), key=lambda r: (r.source, r.source_key)))


def in_conflict(conn: Any, keys: Sequence[str]) -> set[str]:
    """Which of the e-mail keys are in a standing conflict."""
    c = tables.conflicts
    return set(conn.execute(select(c.c.email_key).where(c.c.email_key.in_(keys))).scalars()) if keys else set()


def _conflicts_between(conn: Any, first: str, last: str) -> set[str]:
    """The e-mail keys in conflict from ``first`` to ``last`` (a range: few, and no list of keys to bind)."""
    c = tables.conflicts
    return set(conn.execute(select(c.c.email_key).where(c.c.email_key.between(first, last))).scalars())


def _batch_records(conn: Any, names: list[str], people: Sequence[Any], dense: bool) -> dict[str, list[Any]]:
    """The records of a batch of people (sorted by e-mail), by person: those with the person's e-mail, and the
    linked AD account (by GUID) when its e-mail differs. ``dense``: the batch is every person in its e-mail range
    (no filter), so the records are one index range per source; else they are looked up by e-mail."""
    first, last = people[0][0], people[-1][0]
    by_email = (_sr.c.email_key.between(first, last) if dense
                else _sr.c.email_key.in_([row[0] for row in people]))
    out: dict[str, list[Any]] = defaultdict(list)
    for row in _driver_rows(conn, select(_sr.c.email_key, *_RECORD).where(_sr.c.source.in_(names), by_email)):
        out[row[0]].append(row)
    if any(row[-1] for row in people):     # ad_guid
        linked = (select(_p.c.email, *_RECORD)
                  .select_from(_p.join(_sr, (_sr.c.source_key == _p.c.ad_guid) & _sr.c.source.in_(names)))
                  .where(_p.c.email.between(first, last), _p.c.ad_guid.is_not(None),
                         _sr.c.email_key.is_(None) | (_sr.c.email_key != _p.c.email)))
        for row in _driver_rows(conn, linked):
            out[row[0]].append(row)
    return out


def _sort_key(row: Sequence[Any]) -> tuple[str, str]:
    return row[1], row[2]


def users_list(rt: Runtime, state: str | None = None, license_kind: str | None = None) -> Iterator[dict[str, Any]]:
    """Every person matching the filters, by e-mail, as `users show` objects, streamed (module docstring);
    ``license_kind`` "none" selects those without a license."""
    stmt = _PERSON.order_by(_p.c.email).limit(LIST_BATCH)
    if state is not None:
        stmt = stmt.where(_p.c.active.is_(state == "active"))
    if license_kind == "none":
        stmt = stmt.where(_lic.c.kind.is_(None))
    elif license_kind is not None:
        stmt = stmt.where(_lic.c.kind == license_kind)
    dense = state is None and license_kind is None
    names = _source_names(rt)
    none: list[Any] = []
    with rt.engine.connect() as conn:
        last: str | None = None
        while True:
            batch = _driver_rows(conn, stmt if last is None else stmt.where(_p.c.email > last))
            if not batch:
                return
            records = _batch_records(conn, names, batch, dense)
            conflicts = _conflicts_between(conn, batch[0][0], batch[-1][0])
            conn.rollback()      # no transaction stays open while the caller writes the batch out
            for row in batch:
                rows = records.get(row[0], none)
                if len(rows) > 1:
                    rows.sort(key=_sort_key)
                yield _person_dict(row, _grouped(rows), row[0] in conflicts)
            if len(batch) < LIST_BATCH:
                return
            last = batch[-1][0]


def user_show(rt: Runtime, email: str) -> dict[str, Any]:
    """One person (the `users show` JSON of DESIGN.md 9a), or an address in a standing conflict that no person
    has (``known`` false, the records that share it); UnknownPerson when neither."""
    key = email_key(email)
    if not key:
        raise errors.UnknownPerson(email.strip())
    with rt.engine.connect() as conn:
        row = conn.execute(_PERSON.where(_p.c.email == key)).first()
        conflict = bool(in_conflict(conn, [key]))
        if row is None:
            if not conflict:
                raise errors.UnknownPerson(email.strip())
            return _conflict_only(key, sources_of(conn, rt, key, None))
        return _person_dict(row, sources_of(conn, rt, key, row.ad_guid), conflict)
