"""The license pool's records, for the dashboard's licenses page and ``GET /api/v1/licenses/pool``: the active
Grace licenses by expiry (and how many expire each week, for the Grace timeline), the Demonstration grants with how
many of each are held, and the purchases. The counts of the pool are ``syncd.views.licenses``; these are the rows
behind them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, cast, extract, func, literal, select

from syncd.store import tables
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime


GRACE_LISTED = 500      # Grace licenses listed by ``pool`` (soonest first); ``grace_total`` counts them all


def grace_weeks(rt: Runtime, now: datetime, weeks: int) -> list[int]:
    """How many active Grace licenses expire in each of the ``weeks`` weeks from ``now`` (the Grace timeline; the
    first week also counts any already past, the last any later), counted in SQL by week: a few rows back rather
    than one per holder (13,000 at 400,000 people)."""
    lic = tables.licenses
    counts = [0] * weeks
    with rt.engine.connect() as conn:
        week = _weeks_from(conn, lic.c.expires_at, now).label("week")
        for n, count in conn.execute(select(week, func.count()).where(
                lic.c.kind == "grace", lic.c.state == "active", lic.c.expires_at.is_not(None)).group_by(week)):
            counts[max(0, min(weeks - 1, int(n)))] += int(count)
    return counts


def _weeks_from(conn: Any, column: Any, now: datetime) -> Any:
    """Whole weeks from ``now`` to ``column`` (a timestamp), truncated: julianday on SQLite, epoch seconds on
    PostgreSQL."""
    at = literal(now, type_=column.type)
    if conn.dialect.name == "sqlite":
        return cast((func.julianday(column) - func.julianday(at)) / 7, Integer)
    return func.trunc(extract("epoch", column - at) / (7 * 86400))


def pool(rt: Runtime, grace_limit: int = GRACE_LISTED) -> dict[str, Any]:
    """``{"grace": [{"email", "name", "management", "assigned_at", "expires_at"}], "grace_total",
    "demonstration_grants": [{"id", "count", "in_use", "granted_at", "expires_at", "actor"}], "purchases":
    [{"count", "at", "actor"}]}``: the first ``grace_limit`` Grace licenses soonest first (``grace_total``: how
    many are held; equal expiries by when the person was first recorded, the order of the licenses' index), grants
    and purchases newest first."""
    p, lic, g, pu = tables.people, tables.licenses, tables.demo_grants, tables.purchases
    with rt.engine.connect() as conn:
        grace = conn.execute(select(p.c.email, p.c.display_name, lic.c.management, lic.c.assigned_at,
                                    lic.c.expires_at).select_from(lic.join(p, p.c.id == lic.c.person_id))
                             .where(lic.c.kind == "grace", lic.c.state == "active")
                             .order_by(lic.c.expires_at, lic.c.person_id).limit(grace_limit)).all()
        total = conn.execute(select(func.count()).select_from(lic).where(
            lic.c.kind == "grace", lic.c.state == "active")).scalar_one()
        held = dict(conn.execute(select(lic.c.demo_grant_id, func.count()).where(lic.c.demo_grant_id.is_not(None))
                                 .group_by(lic.c.demo_grant_id)).all())
        grants = conn.execute(select(g).order_by(g.c.granted_at.desc(), g.c.id)).all()
        purchases = conn.execute(select(pu).order_by(pu.c.at.desc(), pu.c.id.desc())).all()
    return {
        "grace": [{"email": r.email, "name": r.display_name, "management": r.management,
                   "assigned_at": iso(r.assigned_at), "expires_at": iso(r.expires_at)} for r in grace],
        "grace_total": int(total),
        "demonstration_grants": [{"id": r.id, "count": r.count, "in_use": int(held.get(r.id, 0)),
                                  "granted_at": iso(r.granted_at), "expires_at": iso(r.expires_at),
                                  "actor": r.actor} for r in grants],
        "purchases": [{"count": r.count, "at": iso(r.at), "actor": r.actor} for r in purchases],
    }
