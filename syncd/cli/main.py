"""Runs one `syncd` command: every command returns an exit code (DESIGN.md section 9); user errors are one line
on stderr, never a traceback. An unexpected exception is a bug: its traceback goes to the log, and the command
prints one line and exits 70 (EX_SOFTWARE)."""

from __future__ import annotations

from collections.abc import Sequence

from syncd import errors
from syncd.cli.invocation import Invocation, OpenRuntime
from syncd.cli.output import fail
from syncd.cli.parser import build_parser
from syncd.logging import get_logger
from syncd.settings import ConfigError
from syncd.store.db import DatabaseUnavailable, DiskFull
from syncd.store.locks import LockHeld

log = get_logger("syncd.cli")


def run(argv: Sequence[str] | None, open_runtime: OpenRuntime) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(Invocation(args, open_runtime)))
    except errors.UserError as e:
        fail(str(e))
        return e.exit_code
    except ConfigError as e:
        fail(str(e))
        return errors.CONFIG
    except LockHeld as e:
        fail(str(e))
        return errors.LOCKED
    except (DatabaseUnavailable, DiskFull) as e:
        fail(str(e))
        return errors.DATABASE
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except SystemExit as e:      # argparse --help
        return int(e.code or 0)
    except Exception as e:
        log.exception("internal error")
        fail(f"internal error ({type(e).__name__}); the traceback is in the log; please report this bug")
        return errors.INTERNAL
