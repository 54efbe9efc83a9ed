"""``[[sources.file]]``: a snapshot of CUCM or AD users exported to a file (JSON lines or CSV)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from connectors.options import ConfigPath, SourceName, SourceOptions


class FileOptions(SourceOptions):
    name: SourceName = "file"
    path: ConfigPath
    format: Literal["jsonl", "csv"] | None = None
    """Default: "csv" for a .csv file, else "jsonl"."""
    kind: Literal["cucm", "ad"] = "cucm"
    """The source type whose records the file holds."""

    def holds(self) -> str:
        return self.kind

    @model_validator(mode="after")
    def _format(self) -> Self:
        if self.format is None:
            self.format = "csv" if self.path.lower().endswith(".csv") else "jsonl"
        return self
