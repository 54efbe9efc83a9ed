"""The alert conditions and their texts, from :func:`syncd.views.alerts.alert_facts`: pure, no I/O.

A condition is identified by its key (``alert_state.condition``); it stands while the facts show it, and clears when
they no longer do. The Grace-expiry condition is a digest: sent again once a day while it stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy.text import plural

REFUSED = "safety_refused"
SOURCE = "source_failing:"          # + the source's name
GRACE_EXPIRING = "grace_expiring"
CWMS_FAILED = "cwms_push_failed"
GRACE_LIMIT = "grace_limit"

LISTED = 100                        # people a Grace digest names; the rest are counted

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Alert:
    title: str
    body: str


@dataclass(frozen=True)
class Condition:
    key: str
    alert: Alert
    daily: bool = False             # sent again on each new day (UTC) while it stands


def _refused(facts: Facts) -> Condition | None:
    r = facts["refused"]
    if r is None:
        return None
    reasons = "; ".join(r["reasons"]) or "too many deactivations"
    return Condition(REFUSED, Alert(
        "syncd: a sync was refused by the safety gate",
        f"Run {r['run_id']} ({r['started_at']}) was refused and applied nothing: {reasons}. Check the sources; "
        "if the deactivations are right, run `syncd sync --allow-mass-deactivation` once."))


def _failing(facts: Facts, after_failures: int) -> list[Condition]:
    return [Condition(SOURCE + s["name"], Alert(
        f"syncd: source {s['name']} failed {plural(s['failures'], 'run')} in a row",
        f"The last error: {s['error']}. While it fails, what syncd last read of it stands (a failed read "
        "deactivates nobody). `syncd check --source " + s["name"] + "` tests the connection."))
        for s in facts["sources"] if s["failures"] >= after_failures]


def _grace_expiring(facts: Facts, days: int) -> Condition | None:
    expiring = facts["grace_expiring"]
    if not expiring:
        return None
    lines = [f"{e['email']}: {e['expires_at'][:10]}" for e in expiring[:LISTED]]
    if len(expiring) > LISTED:
        lines.append(f"... and {len(expiring) - LISTED} more (`syncd licenses report`)")
    return Condition(GRACE_EXPIRING, Alert(
        f"syncd: {plural(len(expiring), 'Grace license')} expiring within {days} days",
        "Expiring (date, UTC):\n" + "\n".join(lines) + "\nA holder whose Grace license expires can no longer host "
        "until a Permanent license is free for them (`syncd licenses purchase N`, `syncd licenses reserve EMAIL`)."),
        daily=True)


def _cwms_failed(facts: Facts) -> Condition | None:
    n = facts["cwms_failed"]
    if not n:
        return None
    return Condition(CWMS_FAILED, Alert(
        f"syncd: {plural(n, 'CWMS write')} failed",
        f"The CWMS outbox holds {plural(n, 'write')} that CWMS refused; those accounts still bind their licenses. "
        "The dashboard's outbox page and `syncd journal` show each with CWMS's reason."))


def _grace_limit(facts: Facts) -> Condition | None:
    in_use, limit = facts["grace_in_use"], facts["grace_limit"]
    if limit <= 0 or in_use < limit:        # a limit of 0 turns Grace off: nothing to reach
        return None
    return Condition(GRACE_LIMIT, Alert(
        f"syncd: the Grace limit is reached ({in_use} of {limit} in use)",
        "A host who needs a Grace license is refused while the limit stands: buy Permanent licenses (`syncd "
        "licenses purchase N`) or raise [licenses] grace_limit."))


def standing(facts: Facts, *, after_failures: int, grace_warning_days: int) -> list[Condition]:
    """Every condition the facts show, in a stable order."""
    found = [_refused(facts), *_failing(facts, after_failures), _grace_expiring(facts, grace_warning_days),
             _cwms_failed(facts), _grace_limit(facts)]
    return [c for c in found if c is not None]


def cleared(key: str, facts: Facts, *, grace_warning_days: int) -> Alert:
    """The alert that says the condition ``key`` no longer stands."""
    if key.startswith(SOURCE):
        name = key.removeprefix(SOURCE)
        return Alert(f"syncd: source {name} reads again", f"The last run read source {name} completely.")
    texts = {
        REFUSED: Alert("syncd: the safety gate passes again", "The last sync was not refused."),
        GRACE_EXPIRING: Alert(f"syncd: no Grace license expires within {grace_warning_days} days",
                              "Every Grace license that was expiring has been replaced, released or has expired."),
        CWMS_FAILED: Alert("syncd: no failed CWMS write", "The CWMS outbox holds no failed write any more."),
        GRACE_LIMIT: Alert(f"syncd: Grace in use is below the limit again ({facts['grace_in_use']} of "
                           f"{facts['grace_limit']})", "Hosts who need a Grace license can get one again."),
    }
    return texts.get(key, Alert(f"syncd: cleared: {key}", f"The condition {key} no longer stands."))
