"""Schema migrations, applied programmatically (no alembic.ini): at every start and by ``syncd db upgrade``.

:func:`upgrade` is idempotent and safe to run from several processes at once: on PostgreSQL the upgrade runs
under a transaction-scoped advisory lock, on SQLite under ``BEGIN IMMEDIATE`` (one writer), and each upgrade is
one transaction (DDL is transactional on both), so a crash mid-upgrade leaves the previous revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine

from .db import DatabaseUnavailable, begin_write, make_engine
from .locks import advisory_key

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


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
        want = head_revision() if revision == "head" else revision
        if current_revision(engine) == want:
            return want
        with begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                _require_schema(conn)
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(conn, "migrate")})
            command.upgrade(alembic_config(conn), revision)
            rev = MigrationContext.configure(conn).get_current_revision()
        return rev or ""
    finally:
        if engine is not target:
            engine.dispose()
