"""What a command needs at run time: the configuration, the database engine, the policy settings, the actor,
and the connectors built from the configured sources."""

from __future__ import annotations

import getpass
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy.engine import Engine

from connectors.records import Connector
from policy import Settings

from .config import Config, resolve_secret
from .reconcile import SourceSpec
from .store import db
from .store.migrate import upgrade


def cli_actor() -> str:
    try:
        user = os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}"


@dataclass
class Runtime:
    config: Config
    actor: str
    config_path: str | None = None

    @cached_property
    def engine(self) -> Engine:
        engine = db.make_engine(self.config.database.url or db.default_url())
        upgrade(engine)
        return engine

    @cached_property
    def settings(self) -> Settings:
        return Settings(**self.config.policy_settings_kwargs())

    def source_specs(self) -> list[SourceSpec]:
        srcs = self.config.sources
        specs = [SourceSpec(s.name, "cucm") for s in srcs.cucm]
        specs += [SourceSpec(s.name, "ad", tuple(s.match)) for s in srcs.ad]
        specs += [SourceSpec(s.name, s.kind) for s in srcs.file]
        order = {n: i for i, n in enumerate(self.config.source_order())}
        return sorted(specs, key=lambda s: order.get(s.name, 0))

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

    def _secret(self, src: Any, key_path: str) -> str:
        return resolve_secret(src, key_path, self.config_path)

    def _cucm(self, c: Any) -> Connector:
        from connectors.cucm import CucmConnector, CucmOptions

        return CucmConnector(CucmOptions(
            name=c.name, url=c.url, username=c.username, password=self._secret(c, c.key_path),
            version=c.version, ca_file=c.ca_file, insecure=c.insecure, method=c.method, page_size=c.page_size,
            wsdl=c.wsdl, ldap_flag=c.ldap_flag, timeout=c.timeout, retries=c.retries,
        ))

    def _ad(self, a: Any) -> Connector:
        from connectors.ad import AdConnector, AdOptions

        return AdConnector(AdOptions(
            name=a.name, urls=list(a.urls), bind_dn=a.bind_dn, password=self._secret(a, a.key_path),
            ca_file=a.ca_file, tls_name=a.tls_name, insecure=a.insecure, base_dns=list(a.base_dns),
            filter=a.filter, host_group=a.host_group, mode=a.mode, page_size=a.page_size,
            connect_timeout=a.connect_timeout, receive_timeout=a.receive_timeout, start_tls=a.start_tls,
        ))
