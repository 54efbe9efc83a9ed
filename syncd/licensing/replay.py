"""Replay and verify: the journal alone reproduces the ledger (DESIGN.md section 5), and the stored ledger keeps
the policy's invariants. Replayed up to a time, it is the ledger as it stood then (`explain` and `licenses
report` with a past ``--at``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from policy import Decision, Ledger, LicenseKind, LicenseState, Settings, replay
from syncd import journal
from syncd.licensing.stored import load_stored_ledger
from syncd.store import tables

PAST_BY = timedelta(seconds=1)      # an --at at least this long ago asks about the past


def _recorded(conn: Connection, until: datetime | None = None) -> Iterator[Decision]:
    j = tables.journal
    stmt = select(j.c.person, j.c.event, j.c.at, j.c.after, j.c.decision).order_by(j.c.id)
    if until is not None:
        stmt = stmt.where(j.c.at <= until)
    for person, event, at, after, decision in conn.execution_options(yield_per=10_000).execute(stmt):
        d = journal.recorded_decision(person, event, at, after, decision)
        if d is not None:
            yield d


def replay_journal(conn: Connection) -> Ledger:
    """The ledger that folding every decision the journal records gives, from an empty ledger."""
    return replay(_recorded(conn))


def in_past(at: datetime, now: datetime) -> bool:
    """Whether ``at`` asks about the ledger as it stood (:func:`ledger_as_of`) rather than as it stands now. The
    replay is exact at any time, so "past" need not be far: a second keeps "now" from costing a replay."""
    return at <= now - PAST_BY


def ledger_as_of(conn: Connection, at: datetime) -> Ledger:
    """The ledger as it stood at ``at``: every decision the journal recorded until then, folded.

    Exact because every change of the ledger is journaled, with its decision, in the transaction that makes it,
    and the journal is append-only (its triggers refuse an UPDATE or DELETE). Before the journal's first row syncd
    held nothing: the ledger is empty. It folds the journal from its start, as `db verify` does."""
    return replay(_recorded(conn, until=at))


def verify(conn: Connection, settings: Settings) -> list[str]:
    """Problems with the stored ledger: broken invariants, or a journal that does not replay to it."""
    ledger, _ = load_stored_ledger(conn)
    problems: list[str] = []
    if ledger.permanent_in_use > ledger.installed_permanent:
        problems.append(f"{ledger.permanent_in_use} Permanent licenses bound but only "
                        f"{ledger.installed_permanent} installed")
    for key, p in ledger.people.items():
        lic = p.license
        if lic is not None and lic.state is LicenseState.ACTIVE and not p.active and not (
                lic.kind is LicenseKind.PERMANENT and settings.release_hold and p.deactivated_at is not None):
            problems.append(f"{key} is inactive but holds an active {lic.kind.value} license")
    replayed = replay_journal(conn).subset()
    stored = ledger.subset()
    if (replayed.purchases, replayed.demo_grants, replayed.trial, dict(replayed.meetings), replayed.cwms_version) != (
            stored.purchases, stored.demo_grants, stored.trial, dict(stored.meetings), stored.cwms_version):
        problems.append("the journal does not replay to the stored purchases, grants, trial, meetings or CWMS "
                        "version")
    for key in sorted(set(replayed.people) | set(stored.people)):
        if replayed.people.get(key) != stored.people.get(key):
            problems.append(f"the journal does not replay to the stored license state of {key}: "
                            f"journal {replayed.people.get(key)}, stored {stored.people.get(key)}")
    return problems
