"""One command invocation: its parsed arguments, and the composition root's way to build a runtime."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from syncd.logging import configure_logging
from syncd.runtime import Runtime
from syncd.settings import Config, load_config

OpenRuntime = Callable[[Config], Runtime]


@dataclass(frozen=True)
class Invocation:
    args: argparse.Namespace
    open_runtime: OpenRuntime

    def config(self) -> Config:
        return load_config(self.args.config)

    def runtime(self) -> Runtime:
        """The runtime of a one-shot command. Its own output says what happened; its log lines show on stderr with
        -v (the daemon logs at the configured level)."""
        config = self.config()
        a = self.args
        level = "CRITICAL" if a.quiet else "DEBUG" if a.verbose > 1 else "INFO" if a.verbose else "ERROR"
        configure_logging(level, config.logging.format)
        return self.open_runtime(config)

