"""Migrations: idempotent, safe to run concurrently, and equal to the tables (autogenerate finds no diff)."""

from __future__ import annotations

import subprocess
import sys
import threading

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from syncd.store import bulk, tables
from syncd.store.db import make_engine
from syncd.store.migrate import HEAD, alembic_config, current_revision, head_revision, upgrade
from syncd.store.tables import metadata
from tests.integration.store.storehelp import NOW, count_statements


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata))


def test_upgrade_creates_every_table_and_matches_the_models(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        assert current_revision(eng) is None
        assert upgrade(eng) == head_revision()
        tables = set(inspect(eng).get_table_names())
        assert set(metadata.tables) | {"alembic_version"} == tables
        assert _diff(eng) == []
    finally:
        eng.dispose()


def test_upgrade_is_idempotent_and_cheap_when_current(engine: Engine) -> None:
    with count_statements(engine) as n:
        assert upgrade(engine) == head_revision()
        assert upgrade(engine.url.render_as_string(hide_password=False)) == head_revision()
    assert n.writes() == []  # only the revision check
    assert n.count <= 3
    assert current_revision(engine) == head_revision()
    assert _diff(engine) == []


def test_head_constant_is_alembics_head() -> None:
    assert head_revision() == HEAD


def test_a_current_database_is_checked_without_importing_alembic_or_the_orm(engine: Engine) -> None:
    """Every command checks the revision first; on a current database that must not pay for Alembic's import."""
    code = ("import sys; from syncd.store.migrate import upgrade; print(upgrade(sys.argv[1])); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako') or m == 'sqlalchemy.orm'))")
    url = engine.url.render_as_string(hide_password=False)
    out = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == [HEAD, "[]"]


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert upgrade(engine) == head_revision()
    assert _diff(engine) == []


def test_the_conflicts_table_starts_with_the_conflicts_already_stored(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        upgrade(eng, "0003")
        rows = [("cucm", "k1", "dup@example.com"), ("cucm", "k2", "dup@example.com"), ("cucm", "k3", "one@example.com"),
                ("ad", "g1", "one@example.com"), ("cucm", "k4", None), ("cucm", "k5", None)]
        with eng.begin() as conn:
            bulk.upsert_source_records(conn, [
                {"source": s, "source_key": k, "email_key": e, "active": True, "data": {}, "digest": "d",
                 "seen_at": NOW, "run_id": None} for s, k, e in rows])
        upgrade(eng)
        with eng.connect() as conn:
            assert conn.execute(select(tables.conflicts.c.email_key)).scalars().all() == ["dup@example.com"]
    finally:
        eng.dispose()


def test_run_sources_start_with_the_reads_the_stored_reports_tell(db_url: str) -> None:
    eng = make_engine(db_url)
    try:
        upgrade(eng, "0004")
        cucm_ok = {"name": "cucm", "type": "cucm", "complete": True, "full": True, "records": 40, "error": None,
                   "seconds": 1.5}
        ad_failed = {"name": "ad", "type": "ad", "complete": False, "full": False, "records": 0,
                     "error": "ldap: connection refused", "seconds": 0.25}
        with eng.begin() as conn:
            conn.execute(tables.runs.insert(), [
                {"run_id": "r1", "started_at": NOW, "actor": "scheduler", "mode": "apply", "result": "partial",
                 "summary": {"run_id": "r1", "sources": [cucm_ok, ad_failed]}},
                {"run_id": "r2", "started_at": NOW, "actor": "scheduler", "mode": "apply", "result": "refused",
                 "summary": {"run_id": "r2", "sources": []}},
                {"run_id": "r3", "started_at": NOW, "actor": "cli:x", "mode": "apply", "result": None,
                 "summary": None}])
        upgrade(eng)
        rs = tables.run_sources
        with eng.connect() as conn:
            rows = conn.execute(select(rs.c.run_id, rs.c.source, rs.c.complete, rs.c.full, rs.c.records,
                                       rs.c.error, rs.c.seconds).order_by(rs.c.source)).all()
        assert [tuple(r) for r in rows] == [("r1", "ad", False, False, 0, "ldap: connection refused", 0.25),
                                             ("r1", "cucm", True, True, 40, None, 1.5)]
    finally:
        eng.dispose()


def test_concurrent_upgrades_of_an_empty_database(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(3)]
    results: list[str] = []
    failures: list[BaseException] = []

    def run(e: Engine) -> None:
        try:
            results.append(upgrade(e))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert failures == []
        assert results == [head_revision()] * 3
        assert _diff(engines[0]) == []
    finally:
        for e in engines:
            e.dispose()
