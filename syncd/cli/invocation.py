"""One command invocation: its parsed arguments, and the composition root's way to build a runtime."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from syncd.cli.output import fail
from syncd.logging import configure_logging
from syncd.runtime import Runtime
from syncd.settings import Config, config_path, load_config
from syncd.store import db

OpenRuntime = Callable[[Config], Runtime]


def defaults_notice(path_arg: str | None) -> str:
    """What a command says when no configuration file exists where it looked (only the default path can be
    missing without an error): the file, and where the embedded defaults put the database."""
    looked_for, _ = config_path(path_arg)
    return (f"no configuration file {looked_for}: running on the embedded defaults (no sources, database "
            f"{db.default_url().removeprefix('sqlite:///')}); give --config PATH or set $SYNCD_CONFIG")


@dataclass(frozen=True)
class Invocation:
    args: argparse.Namespace
    open_runtime: OpenRuntime

    def config(self, *, notice: bool = True) -> Config:
        """The configuration. Without a file, a warning on stderr says which file was looked for and that the
        embedded defaults are in use: a forgotten --config would otherwise read and write an empty ./syncd.db
        without a word. ``notice=False``: the command says so in its own output (``config check``)."""
        config = load_config(self.args.config)
        if config.path is None and notice:
            self.warn(defaults_notice(self.args.config))
        return config

    def runtime(self) -> Runtime:
        """The runtime of a one-shot command. Its own output says what happened; its log lines show on stderr with
        -v (the daemon logs at the configured level)."""
        config = self.config()
        a = self.args
        level = "CRITICAL" if a.quiet else "DEBUG" if a.verbose > 1 else "INFO" if a.verbose else "ERROR"
        configure_logging(level, config.logging.format)
        return self.open(config)

    def open(self, config: Config) -> Runtime:
        """The runtime for ``config``, after a warning when its SQLite database file exists and group or others
        can read it. syncd creates the file 0600 (syncd.store.db) but leaves an existing file's mode as it is:
        the admin may have widened it on purpose, and a chmod behind their back would undo that silently."""
        loose = db.loose_mode(config.database.url or db.default_url())
        if loose:
            path, mode = loose
            self.warn(f"database {path} can be read by group or others (mode {mode:04o}): it holds names, e-mails "
                      "and the journal; chmod 600 it and its -wal and -shm files, unless that is deliberate")
        return self.open_runtime(config)

    def warn(self, message: str) -> None:
        """One warning line on stderr; -q silences it (errors still show)."""
        if not getattr(self.args, "quiet", False):
            fail(f"warning: {message}")
