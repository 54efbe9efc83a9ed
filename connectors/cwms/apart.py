"""Reading every CWMS account in a process of its own: ``list_pages_apart`` starts ``python -m connectors.cwms.apart``,
hands it the site's options (the password on its stdin, never in its arguments or environment) and yields the pages
it reads, as :meth:`CwmsClient.list_pages` would.

Why a process: a run reads CWMS while it reads the sources and plans, and both are Python work. On a thread, the
read waits for the interpreter lock behind the plan at every page (a full read of 400,000 accounts took four times
as long as alone); in a process of its own it runs beside the run on another core.

The child writes one JSON object a line: ``{"rows": [...]}`` per page, ``{"log": level, "logger": name, "event":
text}`` for what the client logs (retries), then ``{"end": true}``, or ``{"error": ...}`` with the
:class:`CwmsError`'s fields.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import IO, Any

from .client import CwmsClient, CwmsError
from .options import CwmsOptions

_SECRETS = ("password", "password_file", "password_env", "password_credential")


def list_pages_apart(opts: CwmsOptions) -> Iterator[list[str]]:
    """The pages of :meth:`CwmsClient.list_pages`, read by a child process; raises :class:`CwmsError` as it does.
    ``opts`` must hold its resolved password. The child is killed when the caller stops early."""
    settings = {**opts.model_dump(exclude=set(_SECRETS)), "password": opts.secret()}
    proc = subprocess.Popen([sys.executable, "-m", "connectors.cwms.apart"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=None, text=True, encoding="utf-8")
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(settings))
        proc.stdin.close()
        for line in proc.stdout:
            msg = json.loads(line)
            if "rows" in msg:
                yield msg["rows"]
            elif "log" in msg:         # the retries, as the client would have logged them here
                logging.getLogger(msg["logger"]).log(msg["log"], "%s", msg["event"])
            elif "error" in msg:
                raise CwmsError(msg["error"], kind=msg["kind"], temporary=msg["temporary"],
                                exception_id=msg["exception_id"], reason=msg["reason"])
            else:
                return
        raise CwmsError(f"LstsummaryUser: the reading process ended ({proc.wait()}) before the last page",
                        kind="incomplete", temporary=True)
    finally:
        proc.kill()
        proc.wait()


class _Lines(logging.Handler):
    def __init__(self, out: IO[str]) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        _send(self.out, {"log": record.levelno, "logger": record.name, "event": record.getMessage()})


def _send(out: IO[str], msg: dict[str, Any]) -> None:
    out.write(json.dumps(msg) + "\n")
    out.flush()


def main() -> int:
    out = sys.stdout
    logging.getLogger("connectors").addHandler(_Lines(out))
    logging.getLogger("connectors").setLevel(logging.INFO)
    client = CwmsClient(CwmsOptions.model_validate(json.loads(sys.stdin.read())))
    try:
        for rows in client.list_pages():
            _send(out, {"rows": rows})
        _send(out, {"end": True})
    except CwmsError as e:
        _send(out, {"error": str(e), "kind": e.kind, "temporary": e.temporary, "exception_id": e.exception_id,
                    "reason": e.reason})
    except BrokenPipeError:         # the run stopped reading: it has its answer, or has ended
        return 1
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
