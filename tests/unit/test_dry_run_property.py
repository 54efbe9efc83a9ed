"""A dry run tells the truth: over random directories and ledgers, `sync --dry-run` and `sync --check` report the
changes and the license effects (released, re-marked, promoted; with their sentences and notices) that the apply
of the same state at the same time then reports, and write nothing.

Each example is a new SQLite database in a temporary directory, driven through the functions the CLI calls
(:func:`syncd.sync.pipeline.run_sync`, :mod:`syncd.licensing.admin`): a CUCM file source of local and remote,
active and inactive people is synced, licenses of every kind are handed out by purchases, a trial,
demonstration grants, reservations and meetings, the directory changes (people deactivated, reactivated,
removed, moved between local and remote, added), and the clock moves on (past release holds, Grace and trial
windows, meeting timeouts).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd import errors
from syncd.app import App
from syncd.licensing import admin
from syncd.settings import load_config
from syncd.store import tables
from syncd.sync.pipeline import SyncReport, run_sync
from tests.unit.timebound import time_limit


@dataclass(frozen=True)
class Person:
    status: int          # 1 active, 2 inactive (CUCM's status)
    remote: bool         # synced from LDAP: managed remote


@dataclass(frozen=True)
class Site:
    before: tuple[Person, ...]
    ledger_ops: tuple[tuple[str, int], ...]
    after: tuple[Person | None, ...]       # None: removed from CUCM
    added: tuple[Person, ...]
    hours: int                             # from the ledger's actions to the dry run and the apply
    release_hold: str
    grace_promotion: str
    max_deactivations: int


person = st.builds(Person, st.sampled_from([1, 1, 1, 2]), st.booleans())
OPS = ("purchase", "trial", "demo", "meeting", "meeting", "meeting", "meeting", "end", "reserve")
# What happens to a person in CUCM: nothing (often), deactivated, reactivated, moved between local and remote
# (a held license is re-marked), removed.
FATES = ("keep", "keep", "off", "on", "move", "gone")


def _fate(p: Person, fate: str) -> Person | None:
    return {"keep": p, "off": Person(2, p.remote), "on": Person(1, p.remote), "move": Person(p.status, not p.remote),
            "gone": None}[fate]


@st.composite
def sites(draw: st.DrawFn) -> Site:
    before = tuple(draw(st.lists(person, min_size=1, max_size=14)))
    ops = tuple(draw(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 15)), min_size=2, max_size=24)))
    after = tuple(_fate(p, draw(st.sampled_from(FATES))) for p in before)
    return Site(before, ops, after, tuple(draw(st.lists(person, max_size=3))),
                draw(st.sampled_from([0, 0, 1, 30, 24 * 200])), draw(st.sampled_from(["0h", "0h", "24h"])),
                draw(st.sampled_from(["purchase", "any"])), draw(st.sampled_from([500, 500, 1])))


def _rows(people: dict[int, Person | None]) -> str:
    return "".join(json.dumps({
        "uuid": f"00000000-0000-4000-8000-{n:012d}", "userid": f"user{n}", "mailid": f"user{n}@example.com",
        "firstname": "User", "lastname": str(n), "status": p.status, "ldap_synced": p.remote}) + "\n"
        for n, p in people.items() if p is not None)


def _runtime(root: Path, s: Site) -> App:
    config = root / "syncd.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{root / "syncd.db"}"\n\n'
        f'[[sources.file]]\nname = "cucm"\nkind = "cucm"\nformat = "jsonl"\npath = "{root / "users.jsonl"}"\n\n'
        f'[licenses]\ngrace_limit = 2\nrelease_hold = "{s.release_hold}"\ngrace_promotion = "{s.grace_promotion}"\n'
        f'\n[safety]\nmax_deactivations = {s.max_deactivations}\n')
    config.chmod(0o600)
    return App(config=load_config(str(config)), actor="cli:test")


def _hand_out_licenses(rt: App, ops: tuple[tuple[str, int], ...], people: int, now: datetime) -> None:
    """The ledger's random actions; refusals (an unknown or inactive person, no license free) are part of it."""
    open_ids: list[str] = []
    for i, (op, n) in enumerate(ops):
        who = f"user{n % people}@example.com"
        try:
            if op == "purchase":
                admin.purchase(rt, n % 3 + 1)
            elif op == "trial":
                admin.start_trial(rt, now - timedelta(days=n))
            elif op == "demo":
                admin.grant_demo(rt, n % 2 + 1, datetime.now(UTC) + timedelta(days=n % 30 + 1), None)
            elif op == "meeting" and admin.start_meeting(rt, who, f"m{i}", now=now).ok:
                open_ids.append(f"m{i}")
            elif op == "end" and open_ids:
                admin.end_meeting(rt, open_ids.pop(n % len(open_ids)), now=now)
            elif op == "reserve":
                admin.reserve(rt, who)
        except errors.UserError:
            pass


def _stored(rt: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    with rt.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(t.select().order_by(*t.primary_key.columns))]
                for t in tables.metadata.sorted_tables}


def _told(r: SyncReport) -> dict[str, Any]:
    """What a report says the plan does, whatever its mode: changes with their sentences, the license effects
    with theirs, the notices, the refusal."""
    d = r.to_dict()
    return {"changes": d["changes"], "licenses": d["licenses"], "warnings": d["warnings"], "refused": d["refused"],
            "conflicts": d["conflicts"],
            "plan": [(c.kind, c.email, c.source, c.sentence) for c in r.plan.changes] if r.plan else [],
            "effects": [(o.change, o.person, o.effect, o.rule, o.sentence) for o in r.operations]}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_dry_run_and_check_report_what_the_apply_does_and_write_nothing(s: Site) -> None:
    with tempfile.TemporaryDirectory() as tmp, time_limit(30):
        root = Path(tmp)
        users = root / "users.jsonl"
        rt = _runtime(root, s)
        try:
            users.write_text(_rows(dict(enumerate(s.before))))
            start = datetime.now(UTC)
            assert run_sync(rt, now=start).result == "applied"
            _hand_out_licenses(rt, s.ledger_ops, len(s.before), start)
            changed = {**dict(enumerate(s.after)), **{len(s.before) + i: p for i, p in enumerate(s.added)}}
            users.write_text(_rows(changed))
            now = start + timedelta(hours=s.hours)
            stored = _stored(rt)
            dry = run_sync(rt, mode="dry-run", now=now)
            assert _stored(rt) == stored, "the dry run wrote"
            check = run_sync(rt, mode="check", now=now)
            assert _stored(rt) == stored, "the check wrote"
            applied = run_sync(rt, mode="apply", now=now)
            told = _told(applied)
            assert _told(dry) == told
            assert _told(check) == told
            d = dry.to_dict()
            assert [o["sentence"] for o in d["license_plan"]] == [e[-1] for e in told["effects"]]
            assert sum(told["licenses"].values()) == len(told["effects"])
            if applied.refusal is None:
                pending = applied.plan is not None and applied.plan.pending
                assert check.exit_code == (errors.CHANGES_PENDING if pending else errors.OK)
        finally:
            rt.engine.dispose()


def test_a_deactivated_holder_s_release_is_in_the_dry_run() -> None:
    """The case of the issue, by name: a Permanent holder set inactive in CUCM."""
    s = Site((Person(1, False), Person(1, False)), (), (Person(2, False), Person(1, False)), (), 0, "0h",
             "purchase", 500)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rt = _runtime(root, s)
        try:
            (root / "users.jsonl").write_text(_rows(dict(enumerate(s.before))))
            run_sync(rt)
            admin.purchase(rt, 1)
            assert admin.start_meeting(rt, "user0@example.com", "m-1").ok
            (root / "users.jsonl").write_text(_rows(dict(enumerate(s.after))))
            dry = run_sync(rt, mode="dry-run")
            assert dry.licenses == {"released": 1, "remarked": 0, "promoted": 0}
            deactivate, release = dry.sentences()
            assert deactivate.startswith("would deactivate user0@example.com: CUCM status 2")
            assert release == "would release the Permanent Host license of user0@example.com (R5)"
            assert run_sync(rt).licenses == dry.licenses
        finally:
            rt.engine.dispose()
