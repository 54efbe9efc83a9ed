"""Helpers of the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

NOW = datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=UTC)


class StatementCounter:
    """Counts the statements an engine sends (one per execute, one per executemany batch)."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.count += 1
        self.statements.append(statement)

    def writes(self) -> list[str]:
        verbs = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")
        return [s for s in self.statements if s.lstrip().upper().startswith(verbs)]


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def person(n: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "email": f"user{n:06d}@example.com",
        "display_name": f"User {n}",
        "active": True,
        "deleted": False,
        "management": "remote" if n % 2 else "local",
        "in_cucm": True,
        "ad_guid": f"{n:08x}-0000-4000-8000-000000000000" if n % 3 else None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    row.update(over)
    return row
