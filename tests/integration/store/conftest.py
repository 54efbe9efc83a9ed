"""Fixtures of the store tests: a migrated engine on PostgreSQL (one schema per test); ``engine`` (SQLite, then
PostgreSQL) comes from the ``tests.pgfixture`` plugin.

``db_url``, ``pg_url`` and ``pg_role`` come from the ``tests.pgfixture`` plugin (registered in tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from syncd.store.db import make_engine
from syncd.store.migrate import upgrade


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    eng = make_engine(pg_url)
    upgrade(eng)
    yield eng
    eng.dispose()
