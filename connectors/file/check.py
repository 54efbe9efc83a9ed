"""`syncd check` for a file source: the file exists and can be read, and it parses as a sync reads it."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from connectors.check import Step, StepFailed, run_steps
from connectors.file.connector import FileConnector
from connectors.file.options import FileOptions


def check(opts: FileOptions) -> list[Step]:
    def readable() -> str:
        if not os.path.isfile(opts.path):
            raise StepFailed(f"{opts.path} does not exist", "check path (an export that has not run yet?)")
        try:
            with open(opts.path, "rb") as fh:
                fh.read(1)
        except OSError as e:
            raise StepFailed(f"cannot read {opts.path}: {(e.strerror or type(e).__name__).lower()}",
                             "check the file's permissions for the user syncd runs as") from None
        return f"{opts.path} readable ({os.path.getsize(opts.path)} bytes)"

    def parses() -> str:
        batch = FileConnector(opts).read(None, True, datetime.now(UTC))
        if not batch.complete:
            raise StepFailed(batch.error or "the file does not parse", f"check format ({opts.format}) and kind "
                                                                         f"({opts.kind})")
        return f"{len(batch.records)} {opts.kind} record{'s' if len(batch.records) != 1 else ''} parsed"

    return run_steps([("open", readable), ("read", parses)])
