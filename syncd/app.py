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

from connectors.records import Connector
from policy import Settings
from syncd.cli import main as cli_main
from syncd.settings.config import Config, resolve_secret
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
        """Connectors for the configured sources (all, or those named), built fresh for one run."""
        out: list[Connector] = []
        srcs = self.config.sources
        for c in srcs.cucm:
            if not names or c.name in names:
                out.append(self._cucm(c))
        for a in srcs.ad:
            if not names or a.name in names:
                out.append(self._ad(a))
        for f in srcs.file:
            if not names or f.name in names:
                from connectors.filesource import FileConnector, FileOptions

                out.append(FileConnector(FileOptions(f.name, str(f.path), f.kind, f.format)))
        return out

    def _secret(self, src: object, key_path: str) -> str:
        return resolve_secret(src, key_path, self.config.path)

    def _cucm(self, c: object) -> Connector:
        from connectors.cucm import CucmConnector, CucmOptions

        return CucmConnector(CucmOptions(
            name=c.name, url=c.url, username=c.username, password=self._secret(c, c.key_path),
            version=c.version, ca_file=c.ca_file, insecure=c.insecure, method=c.method, page_size=c.page_size,
            wsdl=c.wsdl, ldap_flag=c.ldap_flag, timeout=c.timeout, retries=c.retries,
        ))

    def _ad(self, a: object) -> Connector:
        from connectors.ad import AdConnector, AdOptions

        return AdConnector(AdOptions(
            name=a.name, urls=list(a.urls), bind_dn=a.bind_dn, password=self._secret(a, a.key_path),
            ca_file=a.ca_file, tls_name=a.tls_name, insecure=a.insecure, base_dns=list(a.base_dns),
            filter=a.filter, host_group=a.host_group, mode=a.mode, page_size=a.page_size,
            connect_timeout=a.connect_timeout, receive_timeout=a.receive_timeout, start_tls=a.start_tls,
        ))


def open_app(config: Config) -> App:
    """The runtime of a `syncd` command, acting as the user who runs it."""
    return App(config, cli_actor())


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main.run(argv, open_app)

