"""The text form of each read command's result: lines rendered from the views' JSON-ready data (the same data
``--json`` prints), and from the sync report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncd.sync.pipeline import SyncReport

APPLY_SHOWN = 50    # changes listed after an apply; a dry run lists them all
CONFLICTS_SHOWN = 5


def when(iso: str | None) -> str:
    """A view's ISO 8601 time as text shows it: to the second, in UTC (``--json`` keeps the full time)."""
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _source_line(s: dict[str, Any]) -> str:
    state = "complete" if s["complete"] else f"INCOMPLETE ({s['error']})"
    return (f"source {s['name']} ({s['type']}, {'full' if s['full'] else 'incremental'}): "
            f"{s['records']} records, {state}" + "".join(f"; {n}" for n in s["notes"]))


def _totals_line(result: str, c: dict[str, Any], lic: dict[str, Any]) -> str:
    if not c:
        return result
    return (f"{result}: {c['created']} created, {c['activated']} activated, {c['deactivated']} "
            f"deactivated, {c['updated']} updated, {c['skipped_no_email']} skipped without e-mail, "
            f"{c['conflicts']} conflicts; licenses {lic['released']} released, {lic['remarked']} "
            f"re-marked, {lic['promoted']} promoted")


def sync_text(r: SyncReport) -> list[str]:
    d = r.to_dict()
    # A refused plan's "would ..." lines must not read as done: say so first.
    lines = ["nothing was applied: the safety gate refused this plan"] if r.refusal is not None else []
    lines += [_source_line(s) for s in d["sources"]]
    total = len(r.plan.changes) if r.plan else 0
    if r.mode == "apply" and total > APPLY_SHOWN:
        where = "syncd journal lists them" if r.applied else "sync --dry-run lists them"
        lines += [*r.sentences(APPLY_SHOWN), f"... and {total - APPLY_SHOWN} more ({where})"]
    else:
        lines += r.sentences()
    lines.append(_totals_line(r.result, d["changes"], d["licenses"]))
    conflicts = d["conflicts"]
    lines += [f"conflict (left unchanged): {x}" for x in conflicts[:CONFLICTS_SHOWN]]
    if len(conflicts) > CONFLICTS_SHOWN:
        lines.append(f"... and {len(conflicts) - CONFLICTS_SHOWN} more conflicts (--json lists them)")
    lines += [f"warning: {w}" for w in d["warnings"]]
    if d["ad_only"]:
        lines.append(f"{d['ad_only']} AD accounts match no CUCM user (counted, not created)")
    if "cwms" in d:
        lines += _cwms_lines(d["cwms"], r.cwms.sent.outcomes if r.cwms and r.cwms.sent else [])
    return lines


def _cwms_lines(c: dict[str, Any], outcomes: list[dict[str, Any]]) -> list[str]:
    """The CWMS part of a sync's text: the read and its drift, the pushes planned or sent, the outbox."""
    if c["read"] is None:
        lines = ["cwms: not read (CWMS is read on full runs)"]
    elif not c["complete"]:
        lines = [f"cwms: read failed, no push planned: {c['error']}"]
    else:
        lines = [f"cwms: {c['read']} accounts read; {c['leaks']} leaks (inactive, account ACTIVATED), "
                 f"{c['blocked']} blocked (active, account not ACTIVATED), {c['cwms_only']} match no person"]
    if c.get("held_back") and c["complete"]:
        lines.append(f"cwms: no push planned: {c['held_back']}")
    planned = c.get("planned", [])
    lines += [f"would {p['sentence']}" for p in planned[:APPLY_SHOWN]]
    if len(planned) > APPLY_SHOWN:
        lines.append(f"... and {len(planned) - APPLY_SHOWN} more CWMS writes (--json lists them)")
    if c["push"] == "report" and planned:
        lines.append('cwms: push = "report": nothing was written to CWMS')
    lines += [o["sentence"] for o in outcomes[:APPLY_SHOWN]]
    if outcomes or c["pending"]:
        lines.append(f"cwms: {c['pushed']} written, {c['push_failed']} failed, {c['pending']} pending"
                     + (f": {c['error']}" if c["complete"] is not False and c["error"] else ""))
    return lines


IN_CONFLICT = "in conflict (left unchanged until one record keeps the address)"


def user_line(p: dict[str, Any]) -> str:
    if not p.get("known", True):
        return f"{p['email']}  no person: {IN_CONFLICT}"
    lic = p["license"]
    expires = f", expires {when(lic['expires_at'])}" if lic and lic["expires_at"] else ""
    held = f"{lic['kind']} ({lic['state']}, {lic['management']}{expires})" if lic else "no license"
    state = "active" if p["active"] else f"inactive: {p['inactive_reason']}"
    conflict = f"; {IN_CONFLICT}" if p.get("conflict") else ""
    return f"{p['email']}  {state}; managed {p['management']}; {held}{conflict}"


def _record_lines(sources: dict[str, Any]) -> list[str]:
    lines = []
    for name, rec in sources.items():
        for r in rec if isinstance(rec, list) else [rec]:
            fields = ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("seen_at",) and v is not None)
            lines.append(f"  {name}: {fields}")
    return lines


def user_text(p: dict[str, Any]) -> list[str]:
    return [user_line(p), *_record_lines(p.get("sources", {}))]


def conflicts_text(conflicts: list[dict[str, Any]]) -> list[str]:
    if not conflicts:
        return ["no conflicts"]
    lines = []
    for c in conflicts:
        person = ("no person has the address" if not c["known"]
                  else f"its {'active' if c['active'] else 'inactive'} person stays as it was")
        lines += [f"{c['email']}: {IN_CONFLICT}; {person}", *_record_lines(c["sources"])]
    return lines


def explain_text(e: dict[str, Any]) -> list[str]:
    h = e["if_hosting"]
    lic = e["license"]
    lines = [
        f"{e['email']}: {'active' if e['active'] else 'inactive'}, managed {e['management']}",
        "license: " + (f"{lic['kind']} ({lic['state']}, {lic['management']}, assigned {when(lic['assigned_at'])}"
                       + (f", expires {when(lic['expires_at'])})" if lic["expires_at"] else ")") if lic else "none"),
        f"if hosting at {when(e['at'])}: " + ("GRANTED" if h["granted"] else f"REFUSED ({h['reason']})")
        + (f" on a {h['license_kind']} license" if h["license_kind"] else "") + f" [{h['rule']}]",
        f"  {h['message']}",
    ]
    return lines + [f"  - {f}" for f in e["facts"]]


def license_report_text(r: dict[str, Any]) -> list[str]:
    u, m = r["in_use"], r["by_management"]
    lines = [
        f"licenses at {when(r['at'])} (CWMS {r['cwms_version']})",
        f"  Permanent: {r['installed_permanent']} installed, {u['permanent']} in use, {r['free_permanent']} free",
        f"  Grace: {u['grace']} in use of a limit of {r['grace_limit']}",
        f"  Demonstration: {u['demonstration']} in use, {r['demonstration_free']} free of {r['demonstration_total']}",
        f"  Trial: {u['trial']} in use; trial window {'open' if r['trial_open'] else 'closed'}",
        f"  by management: {m['local']} local, {m['remote']} remote; {r['open_meetings']} open meetings",
    ]
    lines += [f"  grace expiring: {g['email']} at {when(g['expires_at'])}" for g in r["grace_expiring"]]
    lines += [f"  expired host: {e}" for e in r["expired_hosts"]]
    return lines + [f"notice: {n}" for n in r["notices"]]


def status_text(s: dict[str, Any]) -> list[str]:
    lines = [f"database {s['database']}: {s['people']['active']} active, {s['people']['inactive']} inactive people"]
    for src in s["sources"]:
        cur = src["cursor"]
        lines.append(f"source {src['name']} ({src['type']}): "
                     + (f"cursor from {when(cur['updated_at'])}" if cur else "no cursor yet"))
    lines += [f"run {when(r['started_at'])} {r['mode']} {r['result']} (exit {r['exit_code']}) by {r['actor']}"
              for r in s["runs"]]
    lines += [f"next {n['job']}: {when(n['next_run']) if n['next_run'] else 'when the daemon starts'}"
              for n in s["next_runs"]]
    leader = s["leader"]
    holder = f" by {leader['holder']}" if leader["holder"] else ""
    lines.append(f"daemon: a daemon holds the leader lock{holder} and runs the schedule" if leader["held"]
                 else "daemon: no daemon holds the leader lock; nothing runs the schedule")
    c = s["cwms"]
    if any(c.values()):
        lines.append(f"cwms outbox: {c['pending']} pending, {c['failed']} failed, {c['done']} done")
    return lines + [f"warning: {w}" for w in s["warnings"]]


def journal_line(r: dict[str, Any]) -> str:
    who = f" {r['person']}" if r["person"] else ""
    rule = f" [{r['rule']}]" if r["rule"] else ""
    src = f" (source {r['source']})" if r["source"] else ""
    return f"{when(r['at'])} {r['actor']}{who}: {r['sentence']}{rule}{src}"


def meeting_line(m: dict[str, Any]) -> str:
    held = f" on a {m['license_kind']} license" if m["license_kind"] else ""
    timeout = (f"past the meeting timeout since {when(m['times_out_at'])}: counts as ended" if m["timed_out"]
               else f"times out {when(m['times_out_at'])}")
    return f"{m['meeting_id']}  {m['host']}{held}, started {when(m['started_at'])}; {timeout}"


def check_text(c: dict[str, Any]) -> list[str]:
    """`syncd check`: one line per step of each source, "ok", "FAIL" (with its hint) or "skipped"."""
    lines = []
    for src in c["sources"]:
        for s in src["steps"]:
            mark = "ok" if s["ok"] else "skipped" if s["ok"] is None else "FAIL"
            hint = f" (hint: {s['hint']})" if s["hint"] and s["ok"] is False else ""
            detail = f": {s['detail']}" if s["detail"] else ""
            lines.append(f"{src['name']}: {s['step']}: {mark}{detail}{hint}")
    return lines
