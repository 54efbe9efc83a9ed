"""`syncd config`, `syncd db`, `syncd simulate` and `syncd run` (the daemon)."""

from __future__ import annotations

import os
import sys

from syncd import errors
from syncd.cli import progress
from syncd.cli.invocation import Invocation, defaults_notice
from syncd.cli.output import out
from syncd.logging import configure_logging
from syncd.settings import config_path, example_text


def config_check(inv: Invocation) -> int:
    """Exit 0 on the embedded defaults too (they are a valid configuration), but say which file was missing."""
    config = inv.config(notice=False)
    config.check_secrets()
    names = ", ".join(config.source_order()) or "none"
    looked_for, _ = config_path(inv.args.config)
    missing = [defaults_notice(inv.args.config)] if config.path is None else []
    out(inv.args, {"ok": True, "path": config.path, "sources": config.source_order(),
                   "defaults": config.path is None, "looked_for": looked_for},
        [*missing, f"configuration OK ({config.path or 'embedded defaults'}); sources: {names}"])
    return errors.OK


def config_example(inv: Invocation) -> int:
    sys.stdout.write(example_text())
    return errors.OK


def db_upgrade(inv: Invocation) -> int:
    from syncd.store.migrate import current_revision

    rt = inv.runtime()
    rev = current_revision(rt.engine)       # engine creation runs the upgrade
    if not inv.args.quiet or inv.args.json:
        out(inv.args, {"revision": rev}, f"database at revision {rev}")
    return errors.OK


def db_verify(inv: Invocation) -> int:
    from syncd.licensing.replay import verify

    rt = inv.runtime()
    with progress.working(inv.args, "db verify: checking the license invariants and replaying the journal"), \
            rt.engine.connect() as conn:
        problems = verify(conn, rt.settings)
    out(inv.args, {"ok": not problems, "problems": problems},
        problems or ["ledger consistent: invariants hold and the journal replays to it"])
    return errors.UNKNOWN_OR_REFUSED if problems else errors.OK


def simulate_cucm(inv: Invocation) -> int:
    from connectors.axlsim import run_cli

    a = inv.args
    try:
        return run_cli(a.users, a.port, a.seed, a.tls)
    except OSError as e:        # the listening socket: the only OSError before serving starts
        raise errors.UsageError(f"cannot listen on 127.0.0.1:{a.port}: {e.strerror or e}") from None


def simulate_cwms(inv: Invocation) -> int:
    """The password is ``$SYNCD_SIM_PASSWORD`` when set (scripts that start the simulator know it), else generated;
    printed either way. A taken port is the caller's to change: exit 2."""
    from connectors.cwmssim import Simulator, serve

    a = inv.args
    try:
        sim = Simulator(a.users, seed=a.seed, tls=a.tls, port=a.port, site_name=a.site_name, username=a.username,
                        password=os.environ.get("SYNCD_SIM_PASSWORD") or None, host_limit=a.host_limit)
    except OSError as e:
        raise errors.UsageError(f"cannot listen on 127.0.0.1:{a.port}: {e.strerror or e}") from None
    return serve(sim, a.seed)


def run(inv: Invocation) -> int:
    """The daemon: logs at the configured level (-v raises it to DEBUG); secrets are checked up front (78)."""
    from syncd.daemon.service import run_daemon
    from syncd.views.status import SCHEDULER_ACTOR

    a = inv.args
    config = inv.config()
    level = "CRITICAL" if a.quiet else "DEBUG" if a.verbose else config.logging.level
    configure_logging(level, config.logging.format)
    config.check_secrets()
    return run_daemon(inv.open(config).for_actor(SCHEDULER_ACTOR))
