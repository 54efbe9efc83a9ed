"""What the rooms below the composition root see of one process: its configuration, actor, database engine,
policy settings and connectors.

:class:`syncd.app.App` builds it; licensing, sync, views, the daemon and the CLI take it as this protocol, so none
of them imports the composition root and a test can hand them an ``App`` of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from connectors.base import Connector
    from connectors.cwms.client import CwmsClient
    from connectors.cwms.options import CwmsOptions
    from policy import Settings
    from syncd.settings import Config


class Runtime(Protocol):
    config: Config
    actor: str

    @property
    def engine(self) -> Engine: ...

    @property
    def settings(self) -> Settings: ...

    def connectors(self, names: Sequence[str] | None = None) -> list[Connector]: ...

    def cwms_options(self) -> CwmsOptions:
        """The configured CWMS site's options, password read (``[cwms]``); a UserError (exit 78) when none."""
        ...

    def cwms_client(self) -> CwmsClient:
        """A client of the configured CWMS site (``[cwms]``); a UserError (exit 78) when none is configured."""
        ...

    def for_actor(self, actor: str) -> Runtime:
        """The same process (configuration, engine) acting as ``actor``."""
        ...

    def reconfigured(self, config: Config) -> Runtime:
        """A runtime for a new configuration, sharing this one's engine (one pool per process)."""
        ...
