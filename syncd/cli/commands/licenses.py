"""`syncd licenses` and `syncd sweep`: the license report and the admin actions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from syncd import errors
from syncd.cli.invocation import Invocation
from syncd.cli.output import out
from syncd.cli.text import license_report_text
from syncd.licensing import admin
from syncd.views.licenses import license_report


def report(inv: Invocation) -> int:
    obj = license_report(inv.runtime(), inv.args.at or datetime.now(UTC))
    out(inv.args, obj, license_report_text(obj))
    return errors.OK


def _done(inv: Invocation, outcome: admin.Outcome, refused: int = errors.UNKNOWN_OR_REFUSED) -> int:
    if inv.args.quiet and not inv.args.json and outcome.ok and not outcome.decision.actions:
        return errors.OK        # -q: nothing changed (a sweep with nothing due), so nothing to say
    out(inv.args, outcome.to_dict(), outcome.lines())
    return errors.OK if outcome.ok else refused


def purchase(inv: Invocation) -> int:
    return _done(inv, admin.purchase(inv.runtime(), inv.args.count, inv.args.dry_run))


def set_installed(inv: Invocation) -> int:
    return _done(inv, admin.set_installed(inv.runtime(), inv.args.count, inv.args.dry_run))


def import_holdings(inv: Invocation) -> int:
    """`licenses import FILE`: adopt a site's holdings (DESIGN 12)."""
    try:
        data = Path(inv.args.file).read_bytes()
    except OSError as e:
        raise errors.UserError(f"cannot read {inv.args.file}: {e.strerror}") from None
    return _done(inv, admin.import_holdings(inv.runtime(), data, inv.args.dry_run))


def demo(inv: Invocation) -> int:
    a = inv.args
    return _done(inv, admin.grant_demo(inv.runtime(), a.count, a.expires, a.grant_id, a.dry_run))


def trial(inv: Invocation) -> int:
    return _done(inv, admin.start_trial(inv.runtime(), inv.args.start, inv.args.dry_run))


def reserve(inv: Invocation) -> int:
    return _done(inv, admin.reserve(inv.runtime(), inv.args.email, inv.args.dry_run))


def upgrade(inv: Invocation) -> int:
    return _done(inv, admin.upgrade(inv.runtime(), inv.args.to, inv.args.dry_run))


def sweep(inv: Invocation) -> int:
    return _done(inv, admin.sweep(inv.runtime(), dry_run=inv.args.dry_run))
