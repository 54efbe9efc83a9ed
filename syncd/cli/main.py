"""Runs one `syncd` command: every command returns an exit code (DESIGN.md section 9); user errors are one line
on stderr, never a traceback. An unexpected exception is a bug: its traceback goes to the log, and the command
prints one line and exits 70 (EX_SOFTWARE). A reader that stops reading (``syncd ... | head``) ends the command
quietly, as it ends any Unix filter."""

from __future__ import annotations

import os
import sys
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
        code = _run(argv, open_runtime)
        sys.stdout.flush()      # here, so that a closed pipe is seen below rather than at the interpreter's exit
        return code
    except BrokenPipeError:
        _stdout_to_devnull()
        return errors.BROKEN_PIPE       # what a filter that the closed pipe killed returns


def _run(argv: Sequence[str] | None, open_runtime: OpenRuntime) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(Invocation(args, open_runtime)))
    except BrokenPipeError:
        raise
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
        return errors.INTERRUPTED
    except SystemExit as e:      # argparse --help
        return int(e.code or 0)
    except Exception as e:
        log.exception("internal error")
        fail(f"internal error ({type(e).__name__}); the traceback is in the log; please report this bug")
        return errors.INTERNAL


def _stdout_to_devnull() -> None:
    """After a closed pipe: what is still buffered for stdout goes nowhere, so that Python's flush at exit does not
    fail again with a message (the recipe of Python's documentation, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
