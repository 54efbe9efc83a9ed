"""``[sources]``: one array of tables per registered source type (``[[sources.cucm]]``, ``[[sources.ad]]``, ...),
each table validated by its type's options model (``connectors/<type>/options.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from pydantic import Field, create_model, model_validator

from connectors.options import FieldIssues, Issue, Section, SourceOptions
from connectors.registry import SOURCE_TYPES

RESERVED = "cwms"
"""The source name of the CWMS accounts (``syncd cwms import``, the runs' CWMS read)."""


class Sources(Section):
    """What every ``[sources]`` table offers; :data:`SourcesConfig` adds one list field per source type."""

    @model_validator(mode="after")
    def _names(self) -> Self:
        seen: dict[str, str] = {}
        issues: list[Issue] = []
        for kind in SOURCE_TYPES:
            for i, src in enumerate(getattr(self, kind)):
                src._key_path = f"sources.{kind}[{i}]"
                if src.name == RESERVED:
                    issues.append(((kind, i, "name"), f"{RESERVED!r} names the CWMS site's accounts; give this "
                                                      "source another name"))
                elif src.name in seen:
                    issues.append(((kind, i, "name"), f"duplicate source name {src.name!r} (also "
                                                      f"{seen[src.name]}); give each source its own name"))
                else:
                    seen[src.name] = src._key_path
        if issues:
            raise FieldIssues(issues)
        return self

    def all(self) -> list[SourceOptions]:
        """Every source, by type in registry order (CUCM, AD, files), each type in file order."""
        return [src for kind in SOURCE_TYPES for src in getattr(self, kind)]


if TYPE_CHECKING:
    SourcesConfig = Sources
else:
    SourcesConfig = create_model("SourcesConfig", __base__=Sources, **{
        name: (list[t.options], Field(default_factory=list)) for name, t in SOURCE_TYPES.items()})
