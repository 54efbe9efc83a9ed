"""What every view shares: times as ISO 8601 with their UTC offset."""

from __future__ import annotations

from datetime import datetime


def iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None
