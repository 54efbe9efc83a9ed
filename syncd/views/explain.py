"""`explain EMAIL` and ``GET /api/v1/explain/{email}``: what hosting at a time would do for one person, and why.

A time from now on asks about the stored ledger swept at that time, with the directory judged then (AD
accountExpires); a past time asks about the ledger as the journal says it stood then."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from policy import Ledger
from policy import explain as policy_explain
from syncd import errors
from syncd.licensing.ledger import read_ledger
from syncd.licensing.replay import in_past, ledger_as_of
from syncd.store import tables
from syncd.sync.reconcile import plan, source_specs
from syncd.sync.state import load_state
from syncd.views.common import iso
from syncd.views.people import person_row, sources_of

if TYPE_CHECKING:
    from syncd.runtime import Runtime

NOW_WITHIN = timedelta(seconds=60)     # a later --at than this asks how the directory will judge the person then


class NotYetKnown(errors.UserError):
    """A past ``--at`` before syncd first recorded the person (exit 65, as an unknown person)."""

    def __init__(self, email: str, at: datetime, first: datetime | None) -> None:
        since = f"; the journal names them first at {iso(first)}" if first is not None else ""
        super().__init__(f"{email} was not yet known to syncd at {iso(at)}{since}")


def _ledger_then(conn: Any, email: str, at: datetime) -> Ledger:
    ledger = ledger_as_of(conn, at)
    if email not in ledger.people:
        j = tables.journal
        raise NotYetKnown(email, at, conn.execute(select(func.min(j.c.at)).where(j.c.person == email)).scalar())
    return ledger


def _directory_at(conn: Any, rt: Runtime, email: str, at: datetime, ledger: Ledger) -> tuple[Ledger, list[str]]:
    """The ledger with the person's active state as a sync at ``at`` would judge the directory (AD
    accountExpires), and the fact saying so when that differs from now."""
    specs = source_specs(rt.config)
    stored = load_state(conn, specs, {}, at, also=[email])
    p = plan(specs, {}, stored.people, stored.facts, at, rt.config.reconcile.require_cucm, scope=stored.scope)
    change = next((c for c in p.changes if c.email == email), None)
    if change is None or change.before is None or change.before.active == change.after.active:
        return ledger, []
    fact = (f"at {at.isoformat()} the directory says: "
            f"{'active' if change.after.active else change.after.inactive_reason}")
    people = dict(ledger.people)
    people[email] = replace(ledger.people[email], active=change.after.active)
    return replace(ledger, people=people), [fact]


def _source_facts(person: Any, sources: dict[str, Any]) -> list[str]:
    facts = []
    if not person.active and person.inactive_reason:
        facts.append(f"inactive: {person.inactive_reason}")
    for name, rec in sources.items():
        for r in rec if isinstance(rec, list) else [rec]:
            facts.append(f"{name}: record {r['key']} " + ("active" if r["active"] else "inactive"))
    return facts


def explain(rt: Runtime, email: str, at: datetime) -> dict[str, Any]:
    """The `explain` JSON of DESIGN.md 9a, with the person's source records; UnknownPerson when unknown."""
    now = datetime.now(UTC)
    with rt.engine.connect() as conn:
        person = person_row(conn, email)
        sources = sources_of(conn, rt, person.email, person.ad_guid)
        facts = _source_facts(person, sources)
        if in_past(at, now):
            ledger = _ledger_then(conn, person.email, at)
            facts = [f"the ledger as the journal recorded it at {iso(at)}",
                     *(f"now (not then): {f}" for f in facts)]
        else:
            ledger, _ = read_ledger(rt.engine, conn, [person.email])
            if at - now > NOW_WITHIN:
                ledger, directory = _directory_at(conn, rt, person.email, at, ledger)
                facts += directory
    out = policy_explain(ledger, person.email, rt.settings, at).to_dict()
    out["facts"] = facts + list(out["facts"])
    out["sources"] = sources
    return out
