"""PostgreSQL test fixtures, importable as a pytest plugin (``pytest_plugins = ["tests.pgfixture"]``).

- ``pg_url``: a SQLAlchemy URL (str) bound to a fresh schema of database ``test`` on 127.0.0.1:5432 (trust
  auth, role ``postgres`` or ``root``, or ``$SYNCD_TEST_PG_USER``); the schema is dropped afterwards.
- ``db_url``: parametrised over ``sqlite`` (a file in the test's tmp_path) and ``postgresql`` (``pg_url``).

When PostgreSQL does not answer, PostgreSQL tests are skipped with the reason, or fail when
``SYNCD_REQUIRE_POSTGRES=1`` (CI sets it).
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from syncd.store.db import make_engine
from syncd.store.migrate import upgrade

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_DATABASE = "test"


def _roles() -> list[str]:
    env = os.environ.get("SYNCD_TEST_PG_USER")
    return [env] if env else ["postgres", "root"]


def _conninfo(role: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} dbname={PG_DATABASE} user={role} connect_timeout=5"


def schema_url(role: str, schema: str) -> str:
    """A syncd database URL for ``schema`` (the libpq ``options`` way that DESIGN/db.py documents)."""
    return f"postgresql+psycopg://{role}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_role() -> str:
    """The PostgreSQL role that works (trust auth), or skip/fail as the module docstring says."""
    errors = []
    for role in _roles():
        try:
            with psycopg.connect(_conninfo(role)) as conn:
                conn.execute("SELECT 1")
            return role
        except psycopg.Error as e:
            errors.append(f"{role}: {' '.join(str(e).split())}")
    reason = f"PostgreSQL on {PG_HOST}:{PG_PORT} database {PG_DATABASE!r} is not usable ({'; '.join(errors)})"
    if os.environ.get("SYNCD_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " and SYNCD_REQUIRE_POSTGRES=1")
    pytest.skip(reason)


@pytest.fixture
def pg_schema(pg_role: str) -> Iterator[str]:
    """A fresh schema, dropped (with everything in it) after the test."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_conninfo(pg_role), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(_conninfo(pg_role), autocommit=True) as conn:
            # a test's own engine may still hold pooled sessions in the schema; don't wait on them forever
            conn.execute("SET lock_timeout = '20s'")
            try:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            except psycopg.Error as e:
                warnings.warn(f"could not drop test schema {schema}: {e}", stacklevel=1)


@pytest.fixture
def pg_url(pg_role: str, pg_schema: str) -> str:
    return schema_url(pg_role, pg_schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'syncd.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on ``db_url`` (SQLite, then PostgreSQL)."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()
