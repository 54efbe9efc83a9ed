"""The ledger as the tables hold it: the subset a decision needs (every person who holds a license, hosts an open
meeting or has a grace window, plus the decision's subjects), or the state of some people.

The store never loads all people into a :class:`policy.Ledger`; see :mod:`policy.engine` for why the subset is
enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from policy import (
    DemoGrant,
    HeldLicense,
    Ledger,
    LicenseKind,
    LicenseState,
    Management,
    Meeting,
    PersonState,
    Purchase,
    TrialWindow,
)
from syncd.store import bulk, tables


def _person_state(row: Any) -> PersonState:
    lic = None
    if row.kind is not None:
        lic = HeldLicense(LicenseKind(row.kind), Management(row.lic_management), row.assigned_at, row.expires_at,
                          LicenseState(row.state), row.demo_grant_id)
    return PersonState(active=row.active, deleted=row.deleted, management=Management(row.management), license=lic,
                       first_grace_at=row.first_grace_at, last_hosted_at=row.last_hosted_at,
                       deactivated_at=row.deactivated_at)


_PEOPLE = select(tables.people.c.id, tables.people.c.email, tables.people.c.active, tables.people.c.deleted,
                 tables.people.c.management, tables.people.c.first_grace_at, tables.people.c.last_hosted_at,
                 tables.people.c.deactivated_at, tables.licenses.c.kind,
                 tables.licenses.c.management.label("lic_management"), tables.licenses.c.assigned_at,
                 tables.licenses.c.expires_at, tables.licenses.c.state, tables.licenses.c.demo_grant_id,
                 ).select_from(tables.people.outerjoin(tables.licenses,
                                                       tables.licenses.c.person_id == tables.people.c.id))


def load_stored_ledger(conn: Connection, subjects: Iterable[str] = ()) -> tuple[Ledger, dict[str, int]]:
    """The ledger subset (license holders, open-meeting hosts, grace windows, plus ``subjects``) and {email: id},
    read from the tables."""
    p, lic, m = tables.people, tables.licenses, tables.meetings
    open_hosts = select(m.c.person_id).where(m.c.ended_at.is_(None))
    graced = p.alias("graced")
    people: dict[str, PersonState] = {}
    ids: dict[str, int] = {}
    # Three lookups by key rather than one OR over the outer join, which scanned every person (400,000 on a large
    # site) on every meeting start. Each is an IN (subquery): SQLite, without statistics, would otherwise scan
    # people for the join instead of starting from the few licenses, grace windows or open meetings.
    for stmt in (_PEOPLE.where(p.c.id.in_(select(lic.c.person_id))),
                 _PEOPLE.where(p.c.id.in_(select(graced.c.id).where(graced.c.first_grace_at.is_not(None)))),
                 _PEOPLE.where(p.c.id.in_(open_hosts))):
        for row in conn.execute(stmt):
            if row.email not in people:
                people[row.email] = _person_state(row)
                ids[row.email] = row.id
    load_people(conn, [s for s in dict.fromkeys(subjects) if s not in people], people, ids)
    return with_people(load_shared(conn), people), ids


# A person the ledger subset holds: a license, a grace window or an open meeting (Ledger.relevant_keys)
_RELEVANT = or_(tables.licenses.c.person_id.is_not(None), tables.people.c.first_grace_at.is_not(None),
                tables.people.c.id.in_(select(tables.meetings.c.person_id).where(tables.meetings.c.ended_at.is_(None))))


def load_people(conn: Connection, emails: Sequence[str], people: dict[str, PersonState], ids: dict[str, int],
                relevant_only: bool = False) -> None:
    """Add the stored state of these people (those that exist; with ``relevant_only``, those the ledger subset
    holds) to ``people`` and ``ids``."""
    stmt = _PEOPLE.where(_RELEVANT) if relevant_only else _PEOPLE
    for chunk in bulk.chunks(emails, bulk.IN_CHUNK):
        for row in conn.execute(stmt.where(tables.people.c.email.in_(chunk))):
            people[row.email] = _person_state(row)
            ids[row.email] = row.id


def load_shared(conn: Connection) -> Ledger:
    """Purchases, demonstration grants, the trial, the open meetings and the recorded CWMS version: the ledger
    without its people."""
    p, m = tables.people, tables.meetings
    purchases = tuple(Purchase(r.count, r.at) for r in conn.execute(
        select(tables.purchases).order_by(tables.purchases.c.id)))
    grants = tuple(DemoGrant(r.id, r.count, r.expires_at, r.granted_at) for r in conn.execute(
        select(tables.demo_grants).order_by(tables.demo_grants.c.granted_at, tables.demo_grants.c.id)))
    t = conn.execute(select(tables.trial)).first()
    trial = TrialWindow(t.start, t.ends_at, t.ended_at is not None) if t is not None else None
    meetings = {
        r.meeting_id: Meeting(r.meeting_id, r.email, r.started_at)
        for r in conn.execute(select(m.c.meeting_id, m.c.started_at, p.c.email)
                              .select_from(m.join(p, p.c.id == m.c.person_id)).where(m.c.ended_at.is_(None)))
    }
    version = conn.execute(select(tables.site.c.cwms_version)).scalar_one_or_none()
    return Ledger(purchases, grants, trial, {}, meetings, version)


def with_people(shared: Ledger, people: dict[str, PersonState]) -> Ledger:
    return replace(shared, people=people)
