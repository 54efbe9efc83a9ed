"""Wording shared by decisions, notices and explanations."""

from __future__ import annotations

from datetime import UTC, datetime


def fmt_time(t: datetime) -> str:
    """A time for sentences: to the second, in UTC, as every text line shows times."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an "s" unless ``n`` is 1."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
