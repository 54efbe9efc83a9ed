"""`syncd push [--dry-run]`: work the CWMS outbox now (DESIGN.md 12), as a sync does after its commit.

Exit codes: 0 when every row sent came back done or already; 65 when CWMS refused a row for good (it is marked
failed, with CWMS's exceptionID and reason); 69 when rows were left pending because the site could not be
reached or refused the conversation (wrong credentials, TLS, unreachable; one line on stderr names the site and
the reason) or stayed temporarily unavailable through the client's retries. 69 wins over 65.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from connectors.cwms.sink import CwmsSink
from syncd import errors
from syncd.cli.invocation import Invocation
from syncd.cli.output import fail, out
from syncd.logging import bind_run
from syncd.push.sender import send_pending
from syncd.store.locks import run_lock

SHOWN = 50


def push_text(d: dict[str, Any]) -> list[str]:
    lines = [o["sentence"] for o in d["outcomes"][:SHOWN]]
    if len(d["outcomes"]) > SHOWN:
        lines.append(f"... and {len(d['outcomes']) - SHOWN} more (--json lists them)")
    if d["dry_run"]:
        lines.append(f"dry run, nothing written: {d['pushed']} would be written, {d['already']} already in "
                     f"their state, {d['failed']} would fail, {d['retry']} unknown; {d['pending']} pending")
    elif not d["outcomes"] and not d["pending"]:
        lines.append("cwms outbox: nothing pending")
    else:
        lines.append(f"cwms: {d['pushed']} written, {d['already']} already in their state, {d['failed']} failed, "
                     f"{d['retry']} left to retry; {d['pending']} pending")
    return lines


def push(inv: Invocation) -> int:
    args = inv.args
    rt = inv.runtime()
    cfg = rt.config.cwms
    if cfg is not None and cfg.push != "on" and not args.dry_run:
        raise errors.UserError(f'[cwms] push = "{cfg.push}": syncd writes nothing to CWMS (set push = "on" to '
                               "send the outbox, or give --dry-run)", errors.CONFIG)
    run_id = uuid.uuid4().hex
    bind_run(run_id, rt.actor)

    with contextlib.ExitStack() as held:
        if not args.dry_run:    # a dry run writes nothing, so it needs no lock
            held.enter_context(run_lock(rt.engine))
        summary = send_pending(rt.engine, CwmsSink(rt.cwms_client()), run_id, rt.actor, dry_run=args.dry_run)
    d = summary.to_dict()
    out(args, d, push_text(d))
    if summary.error:
        fail(summary.error)
        return errors.SOURCE_UNAVAILABLE
    if summary.retry:
        last = next(o for o in reversed(summary.outcomes) if o["outcome"] == "retry")
        fail(f"{summary.retry} CWMS write{'s' if summary.retry != 1 else ''} left pending: {last['sentence']}")
        return errors.SOURCE_UNAVAILABLE
    return errors.UNKNOWN_OR_REFUSED if summary.failed else errors.OK
