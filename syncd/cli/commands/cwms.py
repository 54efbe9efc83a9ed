"""`syncd cwms`: the drift between people and CWMS accounts, adopting the accounts' states, the offline export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from syncd import errors
from syncd.cli.invocation import Invocation
from syncd.cli.output import out
from syncd.push.adopt import adopt_site
from syncd.push.export import write_deactivations
from syncd.views import cwms as cwms_view

LISTED = 50


def _listed(title: str, count: int, items: list[str]) -> list[str]:
    lines = [f"{title}: {count}"] + [f"  {i}" for i in items[:LISTED]]
    if count > LISTED:
        lines.append(f"  ... and {count - LISTED} more (--json lists them)")
    return lines


def _pushes(items: list[dict[str, Any]]) -> list[str]:
    return [f"{i['email']}  account {i['webex_id']}" for i in items]


def diff(inv: Invocation) -> int:
    d = cwms_view.diff(inv.runtime())
    lines = [f"CWMS site {d['site']}: {d['read']} accounts read"]
    lines += _listed("leaks (inactive in syncd, account ACTIVATED: CWMS still binds a license)", len(d["leaks"]),
                     _pushes(d["leaks"]))
    lines += _listed("blocked (active in syncd, account not ACTIVATED)", len(d["blocked"]), _pushes(d["blocked"]))
    lines += _listed("accounts that match no person (left alone)", d["cwms_only"], d["cwms_only_listed"])
    if d["no_email"]:
        lines.append(f"accounts without e-mail (match no one, left alone): {d['no_email']}")
    out(inv.args, d, lines)
    return errors.OK


def adopt(inv: Invocation) -> int:
    dry = inv.args.dry_run
    got = adopt_site(inv.runtime(), datetime.now(UTC), dry_run=dry).to_dict()
    verb = "would adopt" if dry else "adopted"
    out(inv.args, {**got, "dry_run": dry},
        f"{verb} {got['accounts']} CWMS accounts' states: {got['added']} added, {got['changed']} changed, "
        f"{got['removed']} removed, {got['unchanged']} unchanged")
    return errors.OK


def export(inv: Invocation) -> int:
    a = inv.args
    try:
        n = write_deactivations(a.deactivations, cwms_view.deactivations(inv.runtime()), a.encoding)
    except OSError as e:
        raise errors.UserError(f"cannot write {a.deactivations}: {e.strerror or e}") from None
    out(a, {"file": a.deactivations, "rows": n, "encoding": a.encoding},
        f"wrote {n} ACTIVE=N rows to {a.deactivations} ({a.encoding}); import it in CWMS under Users > "
        "Import/Export Users")
    return errors.OK
