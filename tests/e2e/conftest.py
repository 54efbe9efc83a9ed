"""End-to-end fixtures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e.site import Site, cucm_row
from tests.pgfixture import _conninfo, schema_url


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> Site:
    s = Site(tmp_path, db_url)
    s.write_config()
    s.write_users({n: cucm_row(n) for n in range(1, 41)})
    return s


@pytest.fixture
def pg_role_or_none(db_url: str, request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL role when ``db_url`` is PostgreSQL, None for SQLite (see tests/e2e/site.py Snapshot)."""
    if db_url.startswith("sqlite"):
        return None
    role: str = request.getfixturevalue("pg_role")
    return role


@pytest.fixture
def ref_url(db_url: str, tmp_path: Path, pg_role_or_none: str | None) -> Iterator[str]:
    """A second, empty database of the same kind, for an uninterrupted reference run."""
    if pg_role_or_none is None:
        (tmp_path / "ref").mkdir()
        yield f"sqlite:///{tmp_path / 'ref' / 'syncd.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield schema_url(pg_role_or_none, schema)
    finally:
        with psycopg.connect(_conninfo(pg_role_or_none), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
