"""`syncd sync` and `syncd status`."""

from __future__ import annotations

from syncd import errors
from syncd.cli import progress
from syncd.cli.invocation import Invocation
from syncd.cli.output import fail, out
from syncd.cli.text import status_text, sync_text
from syncd.views.status import status as status_view


def sync(inv: Invocation) -> int:
    from syncd.daemon.alerts.evaluate import after_run
    from syncd.sync.pipeline import run_sync

    args = inv.args
    if args.dry_run and args.check:
        raise errors.UsageError("--dry-run and --check exclude each other")
    rt = inv.runtime()
    mode = "check" if args.check else "dry-run" if args.dry_run else "apply"
    with progress.shown(args) as watching:
        report = run_sync(rt, mode=mode, full=args.full, sources=args.source,
                          allow_mass_deactivation=args.allow_mass_deactivation, progress=watching)
    if mode == "apply":     # as the daemon does after its runs, so that a site run by a timer gets alerts too
        after_run(rt, report.run_id)
    idle = report.exit_code == errors.OK and not (report.plan and report.plan.pending)
    if not (idle and args.quiet and not args.json):     # -q: nothing changed, nothing to say
        out(args, report.to_dict(), sync_text(report))
    if report.refusal is not None:
        fail(report.refusal.message)
    for src in report.recorded_sources:
        if not src.complete:
            fail(f"source {src.name} unavailable: {src.error}")
    return report.exit_code


def status(inv: Invocation) -> int:
    obj = status_view(inv.runtime())
    out(inv.args, obj, status_text(obj))
    return errors.OK
