"""An incremental run plans only the people its changes can touch (sync.state.load_state's scope). This checks that the
scoped plan makes exactly the changes, and reports exactly the conflicts, of a plan over the whole store.

Each seed builds a small random directory (CUCM users sharing e-mails, AD accounts matched by mail, by
sAMAccountName and by link, some expiring, disabled or deleted), syncs it fully, then plans one random incremental
batch of both sources both ways, later in time so that some AD expiries pass without any record changing, and
applies the scoped plan; three such steps, so that each starts from the conflicts the scoped one before it left.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from connectors.ad.fact import AdFact
from connectors.base import Fact
from connectors.cucm.fact import CucmFact
from syncd.store.db import begin_write
from syncd.sync import apply, state
from syncd.sync.plan import Plan, SourceFacts, SourceSpec
from syncd.sync.reconcile import plan

SPECS = [SourceSpec("cucm", "cucm", CucmFact), SourceSpec("ad", "ad", AdFact, ("mail", "userid"))]
T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=3)


def _mail(rng: random.Random) -> str | None:
    return rng.choice([None, *(f"p{i}@example.com" for i in range(70))])


def _cucm(rng: random.Random, n: int) -> CucmFact:
    mail = _mail(rng)
    return CucmFact(f"c{n:04d}", mail, mail, f"user{n % 90}", f"User {n}", rng.choice([1, 1, 1, 2]),
                    rng.choice([True, False, None]))


def _ad(rng: random.Random, n: int) -> AdFact:
    mail = _mail(rng)
    expires = rng.choice([None, None, T0 + timedelta(days=rng.choice([-1, 1, 2, 5]))])
    return AdFact(f"a{n:04d}", mail, mail, rng.choice([None, *(f"user{i}" for i in range(90))]), None,
                  rng.random() < 0.15, rng.random() < 0.1, expires, rng.choice([None, True, True, False]))


def _read(name: str, facts: list[Fact], full: bool, removed: list[str] | None = None) -> SourceFacts:
    return SourceFacts(name, True, full, len(facts), None, {"at": str(len(facts))}, [], facts, removed or [], 0)


def _apply(engine: Engine, p: Plan, now: datetime, run_id: str = "run") -> None:
    with begin_write(engine) as conn:
        apply.write_people(conn, p.changes, now, {})
        apply.write_sources(conn, p, run_id, now)
        apply.record_run(conn, run_id, "test", now, now, "apply", "applied", 0, {}, p.sources)


def _summary(p: Plan) -> tuple[set[tuple[str, str, Any]], list[str]]:
    return {(c.kind, c.email, c.after) for c in p.changes}, sorted(p.conflicts)


@pytest.mark.parametrize("seed", range(25))
def test_scoped_plan_equals_the_plan_over_the_whole_store(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    cucm = {f.key: f for f in (_cucm(rng, n) for n in range(100))}
    ad = {f.key: f for f in (_ad(rng, n) for n in range(60))}
    first = {"cucm": _read("cucm", list(cucm.values()), True), "ad": _read("ad", list(ad.values()), True)}
    with engine.connect() as conn:
        stored = state.load_state(conn, SPECS, first, T0)
    _apply(engine, plan(SPECS, first, stored.people, stored.facts, T0), T0)

    for step in range(3):      # each scoped plan is applied: the next one starts from what it left
        changed_cucm = [_cucm(rng, rng.randrange(130)) for _ in range(rng.randrange(1, 6))]
        removed = rng.sample(sorted(cucm), rng.randrange(3))
        changed_ad = [_ad(rng, rng.randrange(80)) for _ in range(rng.randrange(0, 5))]
        batch = {"cucm": _read("cucm", changed_cucm, False, removed), "ad": _read("ad", changed_ad, False)}
        now = T1 + timedelta(days=step)

        with engine.connect() as conn:
            scoped = state.load_state(conn, SPECS, batch, now)
            everything = state.load_state(conn, SPECS, {"cucm": _read("cucm", [], True)}, now)
        assert scoped.scope is not None and everything.scope is None
        narrow = plan(SPECS, batch, scoped.people, scoped.facts, now, True, None, scoped.scope)
        wide = plan(SPECS, batch, everything.people, everything.facts, now)
        assert _summary(narrow) == _summary(wide), f"step {step}"
        assert len(scoped.people) < len(everything.people)
        assert scoped.active_count == everything.active_count
        _apply(engine, narrow, now, f"run{step}")
        cucm.update((f.key, f) for f in changed_cucm)
        for key in removed:
            cucm.pop(key, None)
