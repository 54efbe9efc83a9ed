"""The CLI's command handlers: each parses nothing, calls library functions, prints, returns an exit code."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from . import admin, errors, reports
from .cli import print_json
from .config import example_text, load_config
from .logging import configure_logging
from .runtime import Runtime, cli_actor


def _runtime(args: argparse.Namespace) -> Runtime:
    config = load_config(args.config)
    # A command's own output says what happened; its log lines show on stderr with -v (the daemon logs at the
    # configured level).
    level = "CRITICAL" if args.quiet else "DEBUG" if args.verbose > 1 else "INFO" if args.verbose else "ERROR"
    configure_logging(level, config.logging.format)
    return Runtime(config=config, actor=cli_actor(), config_path=config.path)


def _out(args: argparse.Namespace, obj: Any, text: str | list[str]) -> None:
    if args.json:
        print_json(obj)
    else:
        lines = text if isinstance(text, list) else [text]
        sys.stdout.write("".join(line + "\n" for line in lines))


# -- sync -------------------------------------------------------------------------------------------------

def cmd_sync(args: argparse.Namespace) -> int:
    from .pipeline import run_sync

    if args.dry_run and args.check:
        raise errors.UsageError("--dry-run and --check exclude each other")
    rt = _runtime(args)
    mode = "check" if args.check else "dry-run" if args.dry_run else "apply"
    report = run_sync(rt, mode=mode, full=args.full, sources=args.source,
                      allow_mass_deactivation=args.allow_mass_deactivation)
    _out(args, report.to_dict(), reports.sync_text(report))
    if report.refusal is not None:
        sys.stderr.write(f"syncd: {report.refusal.message}\n")
    for name in report.failed_sources:
        src = next(s for s in report.plan.sources if s.name == name)  # type: ignore[union-attr]
        sys.stderr.write(f"syncd: source {name} unavailable: {src.error}\n")
    return report.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    obj = reports.status(rt)
    _out(args, obj, reports.status_text(obj))
    return errors.OK


# -- people -----------------------------------------------------------------------------------------------

def cmd_users_list(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    people = reports.users_list(rt, state=args.state, license_kind=args.license)
    _out(args, people, [reports.user_line(p) for p in people] or ["no people match"])
    return errors.OK


def cmd_users_show(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    obj = reports.user_show(rt, args.email)
    _out(args, obj, reports.user_text(obj))
    return errors.OK


def cmd_explain(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    obj = reports.explain(rt, args.email, args.at or datetime.now(UTC))
    _out(args, obj, reports.explain_text(obj))
    return errors.OK


def cmd_journal(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    rows = reports.journal(rt, person=args.person, since=args.since, limit=args.limit)
    _out(args, rows, [reports.journal_line(r) for r in rows] or ["journal is empty"])
    return errors.OK


# -- licenses ---------------------------------------------------------------------------------------------

def cmd_licenses_report(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    obj = reports.license_report(rt, args.at or datetime.now(UTC))
    _out(args, obj, reports.license_report_text(obj))
    return errors.OK


def _admin(args: argparse.Namespace, outcome: admin.Outcome) -> int:
    _out(args, outcome.to_dict(), outcome.lines())
    return errors.OK if outcome.ok else errors.UNKNOWN_OR_REFUSED


def cmd_licenses_purchase(args: argparse.Namespace) -> int:
    return _admin(args, admin.purchase(_runtime(args), args.count))


def cmd_licenses_demo(args: argparse.Namespace) -> int:
    return _admin(args, admin.grant_demo(_runtime(args), args.count, args.expires, args.grant_id))


def cmd_licenses_trial(args: argparse.Namespace) -> int:
    return _admin(args, admin.start_trial(_runtime(args), args.start))


def cmd_licenses_reserve(args: argparse.Namespace) -> int:
    return _admin(args, admin.reserve(_runtime(args), args.email))


def cmd_licenses_upgrade(args: argparse.Namespace) -> int:
    return _admin(args, admin.upgrade(_runtime(args), args.to))


def cmd_sweep(args: argparse.Namespace) -> int:
    return _admin(args, admin.sweep(_runtime(args)))


# -- meetings ---------------------------------------------------------------------------------------------

def cmd_meetings_start(args: argparse.Namespace) -> int:
    outcome = admin.start_meeting(_runtime(args), args.email, args.meeting)
    _out(args, outcome.to_dict(), outcome.lines())
    return errors.OK if outcome.ok else errors.HOST_REFUSED


def cmd_meetings_end(args: argparse.Namespace) -> int:
    return _admin(args, admin.end_meeting(_runtime(args), args.meeting_id))


# -- tools ------------------------------------------------------------------------------------------------

def cmd_config_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    config.check_secrets()
    names = ", ".join(config.source_order()) or "none"
    _out(args, {"ok": True, "path": config.path, "sources": config.source_order()},
         f"configuration OK ({config.path or 'embedded defaults'}); sources: {names}")
    return errors.OK


def cmd_config_example(args: argparse.Namespace) -> int:
    sys.stdout.write(example_text())
    return errors.OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    from .store.migrate import current_revision

    rev = current_revision(rt.engine)       # engine creation runs the upgrade
    _out(args, {"revision": rev}, f"database at revision {rev}")
    return errors.OK


def cmd_db_verify(args: argparse.Namespace) -> int:
    from .ledger_store import verify

    rt = _runtime(args)
    with rt.engine.connect() as conn:
        problems = verify(conn, rt.settings)
    _out(args, {"ok": not problems, "problems": problems},
         problems or ["ledger consistent: invariants hold and the journal replays to it"])
    return errors.UNKNOWN_OR_REFUSED if problems else errors.OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args.dir, args.users, json_out=args.json)


def cmd_simulate_cucm(args: argparse.Namespace) -> int:
    from connectors.axlsim import run_cli

    return run_cli(args.users, args.port, args.seed, args.tls)


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon: logs at the configured level (-v raises it to DEBUG); secrets are checked up front (78)."""
    from .daemon import run_daemon

    config = load_config(args.config)
    level = "CRITICAL" if args.quiet else "DEBUG" if args.verbose else config.logging.level
    configure_logging(level, config.logging.format)
    config.check_secrets()
    return run_daemon(config)
