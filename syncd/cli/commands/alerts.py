"""`syncd alerts test`: a test alert to every configured receiver, one line per receiver; exit 69 when one failed,
78 when none is configured."""

from __future__ import annotations

from syncd import errors
from syncd.cli.invocation import Invocation
from syncd.cli.output import fail, out


def alerts_test(inv: Invocation) -> int:
    from syncd.daemon.alerts.evaluate import send_test

    deliveries = send_test(inv.runtime())
    if not deliveries:
        raise errors.UserError("no alert receivers configured: add [alerts] urls or urls_file (`syncd config "
                               "example` shows them)", errors.CONFIG)
    receivers = [{"receiver": d.receiver, "ok": d.ok, "error": d.error} for d in deliveries]
    out(inv.args, {"ok": all(d.ok for d in deliveries), "receivers": receivers},
        [f"{d.receiver} ... {'ok' if d.ok else f'failed: {d.error}'}" for d in deliveries])
    failed = [d.receiver for d in deliveries if not d.ok]
    if failed:
        fail(f"alerts test failed for {', '.join(failed)}")
        return errors.SOURCE_UNAVAILABLE
    return errors.OK
