"""Runs one `syncd` command: every command returns an exit code (DESIGN.md section 9); user errors are one line
on stderr, never a traceback. An unexpected exception is a bug: its traceback goes to a file of its own, and the
command prints one line naming it and exits 70 (EX_SOFTWARE). A reader that stops reading (``syncd ... | head``)
ends the command quietly, as it ends any Unix filter."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
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
        fail(f"internal error ({type(e).__name__}); the traceback is in {_traceback_file(e)}; please report this bug")
        return errors.INTERNAL


def _traceback_file(e: Exception) -> str:
    """Where the traceback of an internal error went: a file of its own (0600, in the temporary directory), so
    that stderr keeps its one line; the log says where. Where no file can be written, the log holds it."""
    text = "".join(traceback.format_exception(e))
    try:
        fd, path = tempfile.mkstemp(prefix="syncd-internal-error-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
    except OSError:
        log.exception("internal error")
        return "the log"
    log.error("internal error", error=type(e).__name__, traceback_file=path)
    return path


def _stdout_to_devnull() -> None:
    """After a closed pipe: what is still buffered for stdout goes nowhere, so that Python's flush at exit does not
    fail again with a message (the recipe of Python's documentation, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
