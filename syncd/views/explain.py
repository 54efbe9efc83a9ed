"""`explain EMAIL` and ``GET /api/v1/explain/{email}``: what hosting at a time would do for one person, and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from policy import Ledger
from policy import explain as policy_explain
from syncd.licensing.ledger import load_ledger
from syncd.sync.reconcile import plan, source_specs
from syncd.sync.state import load_state
from syncd.views.people import person_row, sources_of

if TYPE_CHECKING:
    from syncd.runtime import Runtime

NOW_WITHIN = 60     # seconds: an --at this close to now asks about now


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
    with rt.engine.connect() as conn:
        person = person_row(conn, email)
        ledger, _ = load_ledger(conn, [person.email])
        facts: list[str] = []
        if abs((at - datetime.now(at.tzinfo)).total_seconds()) > NOW_WITHIN:
            ledger, facts = _directory_at(conn, rt, person.email, at, ledger)
        sources = sources_of(conn, rt, person.email, person.ad_guid)
    out = policy_explain(ledger, person.email, rt.settings, at).to_dict()
    out["facts"] = _source_facts(person, sources) + facts + list(out["facts"])
    out["sources"] = sources
    return out
