"""The composition root: builds, for one process, the database engine (migrated), the policy settings and the
connectors of the configured sources, and runs the `syncd` command. Nothing imports this module but the console
script and tests; every room below it takes a :class:`syncd.runtime.Runtime`."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine

from connectors.base import Connector
from connectors.cwms.client import CwmsClient
from connectors.cwms.options import CwmsOptions
from connectors.registry import source_type_of
from policy import Settings
from syncd import errors
from syncd.cli import main as cli_main
from syncd.settings import Config
from syncd.store import db
from syncd.store.migrate import upgrade


def cli_actor() -> str:
    try:
        user = os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}"


@dataclass
class App:
    config: Config
    actor: str

    @cached_property
    def engine(self) -> Engine:
        engine = db.make_engine(self.config.database.url or db.default_url())
        upgrade(engine)
        return engine

    @cached_property
    def settings(self) -> Settings:
        return Settings(**self.config.policy_settings_kwargs())

    def for_actor(self, actor: str) -> App:
        return self._sharing_engine(App(self.config, actor))

    def reconfigured(self, config: Config) -> App:
        return self._sharing_engine(App(config, self.actor))

    def _sharing_engine(self, other: App) -> App:
        if "engine" in self.__dict__:
            other.__dict__["engine"] = self.engine      # cached_property: pre-seed the shared engine
        return other

    def connectors(self, names: Sequence[str] | None = None) -> list[Connector]:
        """Connectors for the configured sources (all, or those named), built fresh for one run through the
        registry, each from its options with the password read now."""
        built: list[Connector] = []
        for src in self.config.sources.all():
            if names and src.name not in names:
                continue
            try:
                built.append(source_type_of(src).build(self.config.resolved(src)))
            except ValueError as e:     # a setting that cannot work now, such as a ca_file removed since the load
                raise errors.UserError(f"source {src.name}: {e}", errors.CONFIG) from None
        return built

    def cwms_options(self) -> CwmsOptions:
        """``[cwms]`` with its password read now and its files checked; exit 78 when there is no such table."""
        if self.config.cwms is None:
            raise errors.UserError("no [cwms] table in the configuration: add one to read or write CWMS "
                                   "(`syncd config example` shows it)", errors.CONFIG)
        opts = self.config.cwms_resolved()
        problem = opts.missing_files()
        if problem:
            raise errors.UserError(f"cwms: {problem}", errors.CONFIG)
        return opts

    def cwms_client(self) -> CwmsClient:
        """A client of the ``[cwms]`` site (:meth:`cwms_options`)."""
        return CwmsClient(self.cwms_options())


def open_app(config: Config) -> App:
    """The runtime of a `syncd` command, acting as the user who runs it."""
    return App(config, cli_actor())


def private_umask() -> None:
    """Add group and other to the process's umask, so that every file and directory syncd creates (the database
    and its -wal and -shm files, what `syncd demo` writes) is its owner's alone, whatever umask the shell had.
    The systemd units set UMask=0077 too; a file the shell creates for a redirect is the shell's."""
    os.umask(os.umask(0o077) | 0o077)


def main(argv: Sequence[str] | None = None) -> int:
    private_umask()
    return cli_main.run(argv, open_app)

