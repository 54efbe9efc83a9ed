"""`users list` / `users show` and ``GET /api/v1/people/{email}``: people with their sources and license."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from connectors.emails import email_key
from syncd import errors
from syncd.store import tables
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime


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


def _person_dict(row: Any, sources: dict[str, Any] | None = None) -> dict[str, Any]:
    lic = None
    if row.kind is not None:
        lic = {"kind": row.kind, "state": row.state, "management": row.lic_management,
               "assigned_at": iso(row.assigned_at), "expires_at": iso(row.expires_at)}
    out: dict[str, Any] = {
        "email": row.email, "name": row.display_name, "active": row.active, "deleted": row.deleted,
        "management": row.management, "in_cucm": row.in_cucm, "inactive_reason": row.inactive_reason,
        "license": lic, "last_hosted_at": iso(row.last_hosted_at), "first_grace_at": iso(row.first_grace_at),
    }
    if sources is not None:
        out["sources"] = sources
    return out


def users_list(rt: Runtime, state: str | None = None, license_kind: str | None = None) -> list[dict[str, Any]]:
    """Every person matching the filters, by e-mail; ``license_kind`` "none" selects those without a license."""
    p, lic = tables.people, tables.licenses
    stmt = people_query().order_by(p.c.email)
    if state is not None:
        stmt = stmt.where(p.c.active.is_(state == "active"))
    if license_kind == "none":
        stmt = stmt.where(lic.c.kind.is_(None))
    elif license_kind is not None:
        stmt = stmt.where(lic.c.kind == license_kind)
    with rt.engine.connect() as conn:
        return [_person_dict(r, {}) for r in conn.execute(stmt)]


def sources_of(conn: Any, rt: Runtime, key: str, ad_guid: str | None) -> dict[str, Any]:
    """The person's records in the configured sources (by e-mail, and the linked AD account by GUID): one dict
    per source, or a list of them when one e-mail is in a source twice (a conflict)."""
    sr = tables.source_records
    cond = sr.c.email_key == key
    if ad_guid:
        cond = cond | (sr.c.source_key == ad_guid)
    names = [s.name for s in source_specs(rt.config)]   # leads both indexes: (source, email_key), (source, source_key)
    out: dict[str, Any] = {}
    for row in conn.execute(select(sr).where(sr.c.source.in_(names), cond).order_by(sr.c.source, sr.c.source_key)):
        entry = {"key": row.source_key, "active": row.active, "seen_at": iso(row.seen_at), **row.data}
        if row.source in out:
            prev = out[row.source]
            out[row.source] = (prev if isinstance(prev, list) else [prev]) + [entry]
        else:
            out[row.source] = entry
    return out


def user_show(rt: Runtime, email: str) -> dict[str, Any]:
    """One person (the `users show` JSON of DESIGN.md 9a); UnknownPerson when nobody has that address."""
    with rt.engine.connect() as conn:
        row = person_row(conn, email)
        return _person_dict(row, sources_of(conn, rt, row.email, row.ad_guid))
