"""Read-side answers (status, users, explain, licenses report, journal) as JSON-ready dicts, and their text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from policy import LicenseKind, LicenseState, Sweep, apply, decide, notices
from policy import explain as policy_explain
from syncd import errors
from syncd.emails import email_key
from syncd.licensing.ledger import load_ledger
from syncd.store import bulk, tables
from syncd.sync.reconcile import plan, source_specs
from syncd.sync.state import load_state

if TYPE_CHECKING:
    from syncd.runtime import Runtime
    from syncd.sync.pipeline import SyncReport

WARN_AHEAD = timedelta(days=30)
APPLY_SHOWN = 50    # changes listed after an apply; a dry run lists them all
CONFLICTS_SHOWN = 5


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


# -- sync ---------------------------------------------------------------------------------------------------

def sync_text(r: SyncReport) -> list[str]:
    d = r.to_dict()
    lines = []
    for s in d["sources"]:
        state = "complete" if s["complete"] else f"INCOMPLETE ({s['error']})"
        lines.append(f"source {s['name']} ({s['type']}, {'full' if s['full'] else 'incremental'}): "
                     f"{s['records']} records, {state}" + "".join(f"; {n}" for n in s["notes"]))
    total = len(r.plan.changes) if r.plan else 0
    if r.mode == "apply" and total > APPLY_SHOWN:
        sentences = [*r.sentences(APPLY_SHOWN), f"... and {total - APPLY_SHOWN} more (syncd journal lists them)"]
    else:
        sentences = r.sentences()
    lines += sentences
    c, lic = d["changes"], d["licenses"]
    if c:
        lines.append(f"{r.result}: {c['created']} created, {c['activated']} activated, {c['deactivated']} "
                     f"deactivated, {c['updated']} updated, {c['skipped_no_email']} skipped without e-mail, "
                     f"{c['conflicts']} conflicts; licenses {lic['released']} released, {lic['remarked']} "
                     f"re-marked, {lic['promoted']} promoted")
    else:
        lines.append(r.result)
    conflicts = d["conflicts"]
    lines += [f"conflict (left unchanged): {x}" for x in conflicts[:CONFLICTS_SHOWN]]
    if len(conflicts) > CONFLICTS_SHOWN:
        lines.append(f"... and {len(conflicts) - CONFLICTS_SHOWN} more conflicts (--json lists them)")
    lines += [f"warning: {w}" for w in d["warnings"]]
    if d["ad_only"]:
        lines.append(f"{d['ad_only']} AD accounts match no CUCM user (counted, not created)")
    return lines


# -- people -------------------------------------------------------------------------------------------------

def _people_query() -> Any:
    p, lic = tables.people, tables.licenses
    return select(p, lic.c.kind, lic.c.state, lic.c.management.label("lic_management"), lic.c.assigned_at,
                  lic.c.expires_at).select_from(p.outerjoin(lic, lic.c.person_id == p.c.id))


def _person_dict(row: Any, sources: dict[str, Any] | None = None) -> dict[str, Any]:
    lic = None
    if row.kind is not None:
        lic = {"kind": row.kind, "state": row.state, "management": row.lic_management,
               "assigned_at": _iso(row.assigned_at), "expires_at": _iso(row.expires_at)}
    out: dict[str, Any] = {
        "email": row.email, "name": row.display_name, "active": row.active, "deleted": row.deleted,
        "management": row.management, "in_cucm": row.in_cucm, "inactive_reason": row.inactive_reason,
        "license": lic, "last_hosted_at": _iso(row.last_hosted_at), "first_grace_at": _iso(row.first_grace_at),
    }
    if sources is not None:
        out["sources"] = sources
    return out


def users_list(rt: Runtime, state: str | None = None, license_kind: str | None = None) -> list[dict[str, Any]]:
    p, lic = tables.people, tables.licenses
    stmt = _people_query().order_by(p.c.email)
    if state is not None:
        stmt = stmt.where(p.c.active.is_(state == "active"))
    if license_kind == "none":
        stmt = stmt.where(lic.c.kind.is_(None))
    elif license_kind is not None:
        stmt = stmt.where(lic.c.kind == license_kind)
    with rt.engine.connect() as conn:
        return [_person_dict(r, {}) for r in conn.execute(stmt)]


def user_line(p: dict[str, Any]) -> str:
    lic = p["license"]
    held = f"{lic['kind']} ({lic['state']}, {lic['management']})" if lic else "no license"
    state = "active" if p["active"] else f"inactive: {p['inactive_reason']}"
    return f"{p['email']}  {state}; managed {p['management']}; {held}"


def _sources_of(conn: Any, rt: Runtime, key: str, ad_guid: str | None) -> dict[str, Any]:
    """The person's records in the configured sources (by e-mail, and the linked AD account by GUID)."""
    sr = tables.source_records
    cond = sr.c.email_key == key
    if ad_guid:
        cond = cond | (sr.c.source_key == ad_guid)
    names = [s.name for s in source_specs(rt.config)]   # leads both indexes: (source, email_key), (source, source_key)
    out: dict[str, Any] = {}
    for row in conn.execute(select(sr).where(sr.c.source.in_(names), cond).order_by(sr.c.source, sr.c.source_key)):
        entry = {"key": row.source_key, "active": row.active, "seen_at": _iso(row.seen_at), **row.data}
        if row.source in out:        # one e-mail twice in a source: a conflict, show both
            prev = out[row.source]
            out[row.source] = (prev if isinstance(prev, list) else [prev]) + [entry]
        else:
            out[row.source] = entry
    return out


def user_show(rt: Runtime, email: str) -> dict[str, Any]:
    key = email_key(email)
    with rt.engine.connect() as conn:
        row = conn.execute(_people_query().where(tables.people.c.email == key)).first() if key else None
        if row is None:
            raise errors.UnknownPerson(email.strip())
        return _person_dict(row, _sources_of(conn, rt, row.email, row.ad_guid))


def user_text(p: dict[str, Any]) -> list[str]:
    lines = [user_line(p)]
    for name, rec in p.get("sources", {}).items():
        for r in rec if isinstance(rec, list) else [rec]:
            fields = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("seen_at",) and v is not None)
            lines.append(f"  {name}: {fields}")
    return lines


# -- explain ------------------------------------------------------------------------------------------------

def explain(rt: Runtime, email: str, at: datetime) -> dict[str, Any]:
    key = email_key(email)
    with rt.engine.connect() as conn:
        person = conn.execute(_people_query().where(tables.people.c.email == key)).first() if key else None
        if person is None:
            raise errors.UnknownPerson(email.strip())
        ledger, _ = load_ledger(conn, [person.email])
        facts: list[str] = []
        state = ledger.people[person.email]
        if abs((at - datetime.now(at.tzinfo)).total_seconds()) > 60:
            # Judge the directory at T too (AD accountExpires), as a sync at T would.
            stored = load_state(conn, source_specs(rt.config), {}, at, also=[person.email])
            p = plan(source_specs(rt.config), {}, stored.people, stored.facts, at, rt.config.reconcile.require_cucm,
                     scope=stored.scope)
            change = next((c for c in p.changes if c.email == person.email), None)
            if change is not None and change.before is not None and change.before.active != change.after.active:
                facts.append(f"at {at.isoformat()} the directory says: "
                             f"{'active' if change.after.active else change.after.inactive_reason}")
                people = dict(ledger.people)
                people[person.email] = replace(state, active=change.after.active)
                ledger = replace(ledger, people=people)
        sources = _sources_of(conn, rt, person.email, person.ad_guid)
    e = policy_explain(ledger, person.email, rt.settings, at)
    out = e.to_dict()
    source_facts = []
    if not person.active and person.inactive_reason:
        source_facts.append(f"inactive: {person.inactive_reason}")
    for name, rec in sources.items():
        for r in rec if isinstance(rec, list) else [rec]:
            source_facts.append(f"{name}: record {r['key']} " + ("active" if r["active"] else "inactive"))
    out["facts"] = source_facts + facts + list(out["facts"])
    out["sources"] = sources
    return out


def explain_text(e: dict[str, Any]) -> list[str]:
    h = e["if_hosting"]
    lic = e["license"]
    lines = [
        f"{e['email']}: {'active' if e['active'] else 'inactive'}, managed {e['management']}",
        "license: " + (f"{lic['kind']} ({lic['state']}, {lic['management']}, assigned {lic['assigned_at']}"
                       + (f", expires {lic['expires_at']})" if lic["expires_at"] else ")") if lic else "none"),
        f"if hosting at {e['at']}: " + ("GRANTED" if h["granted"] else f"REFUSED ({h['reason']})")
        + (f" on a {h['license_kind']} license" if h["license_kind"] else "") + f" [{h['rule']}]",
        f"  {h['message']}",
    ]
    return lines + [f"  - {f}" for f in e["facts"]]


# -- licenses -----------------------------------------------------------------------------------------------

def license_report(rt: Runtime, at: datetime) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        ledger, _ = load_ledger(conn)
    settings = rt.settings
    swept = apply(ledger, decide(ledger, Sweep(), settings, at))
    in_use = {k.value: len(swept.holders(k, at)) for k in LicenseKind}
    by_mgmt = {"local": 0, "remote": 0}
    grace_expiring = []
    for key in sorted(swept.people):
        lic = swept.license_at(key, at)
        if lic is None or lic.state is not LicenseState.ACTIVE:
            continue
        by_mgmt[lic.management.value] += 1
        if lic.kind is LicenseKind.GRACE and lic.expires_at is not None and lic.expires_at <= at + WARN_AHEAD:
            grace_expiring.append({"email": key, "expires_at": _iso(lic.expires_at)})
    expired_hosts = sorted(k for k in swept.people if (lic := swept.license_at(k, at)) is not None
                           and lic.state is LicenseState.EXPIRED)
    return {
        "at": at.isoformat(),
        "cwms_version": settings.cwms_version,
        "installed_permanent": swept.installed_permanent,
        "free_permanent": swept.free_permanent,
        "grace_limit": settings.effective_grace_limit(swept.installed_permanent),
        "demonstration_total": swept.demonstration_total(at),
        "demonstration_free": swept.demonstration_free(at),
        "trial_open": swept.trial_open(at),
        "in_use": in_use,
        "by_management": by_mgmt,
        "grace_expiring": grace_expiring,
        "expired_hosts": expired_hosts,
        "open_meetings": len(swept.meetings),
        "notices": [n.message for n in notices(swept, settings, at)],
    }


def license_report_text(r: dict[str, Any]) -> list[str]:
    u, m = r["in_use"], r["by_management"]
    lines = [
        f"licenses at {r['at']} (CWMS {r['cwms_version']})",
        f"  Permanent: {r['installed_permanent']} installed, {u['permanent']} in use, {r['free_permanent']} free",
        f"  Grace: {u['grace']} in use of a limit of {r['grace_limit']}",
        f"  Demonstration: {u['demonstration']} in use, {r['demonstration_free']} free of {r['demonstration_total']}",
        f"  Trial: {u['trial']} in use; trial window {'open' if r['trial_open'] else 'closed'}",
        f"  by management: {m['local']} local, {m['remote']} remote; {r['open_meetings']} open meetings",
    ]
    lines += [f"  grace expiring: {g['email']} at {g['expires_at']}" for g in r["grace_expiring"]]
    lines += [f"  expired host: {e}" for e in r["expired_hosts"]]
    return lines + [f"notice: {n}" for n in r["notices"]]


# -- status and journal -------------------------------------------------------------------------------------

def status(rt: Runtime) -> dict[str, Any]:
    now = datetime.now(UTC)
    runs, p = tables.runs, tables.people
    with rt.engine.connect() as conn:
        last = conn.execute(select(runs).order_by(runs.c.started_at.desc()).limit(10)).all()
        cursors = {r.source: {"updated_at": _iso(r.updated_at), "run_id": r.run_id}
                   for r in conn.execute(select(tables.cursors))}
        counts = dict(conn.execute(select(p.c.active, func.count()).group_by(p.c.active)).all())
        ledger, _ = load_ledger(conn)
        j = tables.journal
        last_scheduled_sync = conn.execute(select(func.max(runs.c.started_at)).where(
            runs.c.actor == "scheduler")).scalar_one()
        last_scheduled_sweep = conn.execute(select(func.max(j.c.at)).where(
            j.c.actor == "scheduler", j.c.event == "sweep")).scalar_one()
    return {
        "database": rt.engine.url.render_as_string(hide_password=True),
        "people": {"active": counts.get(True, 0), "inactive": counts.get(False, 0)},
        "sources": [{"name": s.name, "type": s.type, "cursor": cursors.get(s.name)} for s in source_specs(rt.config)],
        "runs": [{"run_id": r.run_id, "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at),
                  "actor": r.actor, "mode": r.mode, "result": r.result, "exit_code": r.exit_code} for r in last],
        "next_runs": next_runs(rt, now, last_scheduled_sync, last_scheduled_sweep),
        "warnings": [n.message for n in notices(ledger, rt.settings, now)],
    }


def _duration(td: timedelta) -> str:
    """15m, 1h, 1h30m, 45s: the configuration's own notation."""
    seconds, out = int(td.total_seconds()), ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def next_runs(rt: Runtime, now: datetime, last_sync: datetime | None,
              last_sweep: datetime | None) -> list[dict[str, Any]]:
    """When the daemon's jobs run next, from the schedule and the last scheduled runs (None: at daemon start).

    The full sync follows a cron expression, so its next time is exact; the interval jobs count from their last
    scheduled run (a time in the past means the job is due, or no daemon is running it)."""
    s = rt.config.schedule
    full = s.full_trigger().get_next_fire_time(None, now)
    return [
        {"job": "incremental", "next_run": _iso(last_sync + s.incremental_every) if last_sync else None,
         "every": _duration(s.incremental_every)},
        {"job": "full", "next_run": _iso(full), "cron": s.full_cron},
        {"job": "sweep", "next_run": _iso(last_sweep + s.sweep_every) if last_sweep else None,
         "every": _duration(s.sweep_every)},
    ]


def status_text(s: dict[str, Any]) -> list[str]:
    lines = [f"database {s['database']}: {s['people']['active']} active, {s['people']['inactive']} inactive people"]
    for src in s["sources"]:
        cur = src["cursor"]
        lines.append(f"source {src['name']} ({src['type']}): "
                     + (f"cursor from {cur['updated_at']}" if cur else "no cursor yet"))
    lines += [f"run {r['started_at']} {r['mode']} {r['result']} (exit {r['exit_code']}) by {r['actor']}"
              for r in s["runs"]]
    lines += [f"next {n['job']}: {n['next_run'] or 'when the daemon starts'}" for n in s["next_runs"]]
    return lines + [f"warning: {w}" for w in s["warnings"]]


def journal(rt: Runtime, person: str | None, since: datetime | None, limit: int | None) -> list[dict[str, Any]]:
    key = email_key(person) if person else None
    if person and key is None:
        raise errors.UserError(f"not an e-mail address: {person}")
    with rt.engine.connect() as conn:
        rows = bulk.journal_rows(conn, person=key, since=since, limit=limit)
    return [{"id": r.id, "at": _iso(r.at), "run_id": r.run_id, "actor": r.actor, "person": r.person,
             "event": r.event, "source": r.source, "rule": r.rule, "sentence": r.sentence, "before": r.before,
             "after": r.after} for r in rows]


def journal_line(r: dict[str, Any]) -> str:
    who = f" {r['person']}" if r["person"] else ""
    rule = f" [{r['rule']}]" if r["rule"] else ""
    src = f" (source {r['source']})" if r["source"] else ""
    return f"{r['at']} {r['actor']}{who}: {r['sentence']}{rule}{src}"

