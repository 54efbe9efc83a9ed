"""Schema migrations, applied programmatically (no alembic.ini): at every start and by ``syncd db upgrade``.

:func:`upgrade` is idempotent and safe to run from several processes at once: on PostgreSQL the upgrade runs
under a transaction-scoped advisory lock, on SQLite under ``BEGIN IMMEDIATE`` (one writer), and each upgrade is
one transaction (DDL is transactional on both), so a crash mid-upgrade leaves the previous revision.

Alembic is imported only when the database is behind: every `syncd` command starts by checking the revision, and
importing Alembic (with Mako and its dialect modules) would slow every run for nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Connection, Engine

from syncd.store.db import DatabaseUnavailable, begin_write, make_engine
from syncd.store.locks import advisory_key

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# The newest revision in MIGRATIONS_DIR; a test holds it equal to Alembic's head, so a new migration must bump it.
HEAD = "0009"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision, as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    """What Alembic's ``MigrationContext.get_current_revision`` answers, read without importing Alembic."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def _require_schema(conn: Connection) -> None:
    if conn.execute(text("SELECT current_schema()")).scalar() is None:
        path = conn.execute(text("SHOW search_path")).scalar()
        raise DatabaseUnavailable(
            f"no schema of the search path ({path}) exists in the database; create it first (CREATE SCHEMA ...)",
            temporary=False,
        )


def upgrade(target: Engine | URL | str, revision: str = "head") -> str:
    """Bring the database to ``revision`` (the newest by default) and return the revision it is at."""
    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        want = HEAD if revision == "head" else revision
        if current_revision(engine) == want:
            return want
        from alembic import command

        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                _require_schema(conn)
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(conn, "migrate")})
            command.upgrade(alembic_config(conn), revision)
            rev = _revision(conn)
        return rev or ""
    finally:
        if engine is not target:
            engine.dispose()
