"""The registry of source types: for each ``[[sources.<type>]]`` table, its options model (the one schema the
configuration validates and the connector takes), its connector and its fact class.

Adding a source type is a folder ``connectors/<type>/`` and one entry in :data:`SOURCE_TYPES`; nothing else
branches on a type name. Capabilities every type has are found by name in its folder, as ``connectors/<type>/
check.py``'s ``check(options)`` (the `syncd check` test of one source, :func:`check_source`). The connector is
named by its import path and imported only when one is built, so loading the configuration does not load zeep or
ldap3. The registry is its own module (not ``base``) because it imports every type's options and facts, which
themselves import ``base``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from connectors.ad.fact import AdFact
from connectors.ad.options import AdOptions
from connectors.base import Connector
from connectors.check import Step
from connectors.cucm.fact import CucmFact
from connectors.cucm.options import CucmOptions
from connectors.file.options import FileOptions
from connectors.options import SourceOptions


@dataclass(frozen=True)
class SourceType:
    name: str                       # the key under [sources]
    options: type[SourceOptions]
    connector: str                  # "module:Class", built as Class(options)
    fact: type[Any] | None          # None: the fact of the type its options say they hold (SourceOptions.holds)

    def build(self, options: SourceOptions) -> Connector:
        module, _, cls = self.connector.partition(":")
        made: Connector = getattr(importlib.import_module(module), cls)(options)
        return made

    def capability(self, name: str) -> Any:
        """The function ``name`` of ``connectors/<type>/<name>.py`` (imported only when asked for)."""
        return getattr(importlib.import_module(f"connectors.{self.name}.{name}"), name)


SOURCE_TYPES: dict[str, SourceType] = {t.name: t for t in (
    SourceType("cucm", CucmOptions, "connectors.cucm.connector:CucmConnector", CucmFact),
    SourceType("ad", AdOptions, "connectors.ad.connector:AdConnector", AdFact),
    SourceType("file", FileOptions, "connectors.file.connector:FileConnector", None),
)}


def source_type_of(options: SourceOptions) -> SourceType:
    """The registered type whose options model ``options`` is."""
    for t in SOURCE_TYPES.values():
        if type(options) is t.options:
            return t
    raise KeyError(type(options).__name__)


def records_type(options: SourceOptions) -> str:
    """The type whose records the source yields: its own, or the one it holds (a file of CUCM users: "cucm")."""
    return options.holds() or source_type_of(options).name


def fact_of(options: SourceOptions) -> type[Any]:
    """The fact class of the source's records."""
    fact = SOURCE_TYPES[records_type(options)].fact
    assert fact is not None, f"source type {records_type(options)!r} holds no facts of its own"
    return fact


def check_source(options: SourceOptions) -> list[Step]:
    """Test one source as `syncd check` does: its type's steps (reach, TLS, authenticate, version, a small read),
    in order, each passed or failed with a hint. Never raises for a source failure."""
    steps: list[Step] = source_type_of(options).capability("check")(options)
    return steps
