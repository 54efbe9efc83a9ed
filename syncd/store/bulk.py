"""Batched writes for a sync's apply, which runs in ONE transaction, and the readers of cursors and the journal.

Every function takes the caller's open :class:`~sqlalchemy.engine.Connection` (``with engine.begin() as conn``
or :func:`syncd.store.db.begin_write`) and never commits: the caller's transaction decides. Writes go out as
``INSERT ... ON CONFLICT DO UPDATE`` with executemany in chunks of :data:`CHUNK` rows, so a full read of
400,000 people costs a few hundred statements, not one per person.

There is deliberately no helper that updates or deletes journal rows: the journal is append-only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import StatementError

from syncd.store import tables
from syncd.store.db import classify_driver_error

CHUNK = 5000  # rows per executemany call
IN_CHUNK = 1000  # keys per IN (...) list


def chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size`` (the last one shorter)."""
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _insert(conn: Connection, table: Table) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no bulk upsert for database backend {name!r}")


def _by_shape(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, ...], list[Mapping[str, Any]]]:
    """Group rows by their set of keys: one executemany needs the same columns in every row."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in rows:      # rows from one producer list their keys in one order: no need to sort them
        groups.setdefault(tuple(r), []).append(r)
    return groups


def _upsert(
    conn: Connection,
    table: Table,
    chunk: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    keep: Sequence[str] = (),
) -> None:
    """Insert ``chunk``, updating the other columns of a row whose ``conflict`` columns already exist.

    Columns named in ``keep`` are written on insert only (such as ``created_at``). No RETURNING: with psycopg, a
    statement of thousands of parameters costs more to prepare client-side than its rows cost to write, so ids
    are read back separately where needed.
    """
    for shape, group in _by_shape(chunk).items():
        missing = [c for c in conflict if c not in shape]
        if missing:
            raise ValueError(f"{table.name}: row without {', '.join(missing)}")
        get = itemgetter(*shape)
        rows = [get(r) if len(shape) > 1 else (get(r),) for r in group]
        if conn.dialect.name == "postgresql":
            _pg_copy(conn, table, shape, rows, conflict, keep)
            continue
        ins = _insert(conn, table)
        update = {c: ins.excluded[c] for c in shape if c not in conflict and c not in keep}
        stmt = (
            ins.on_conflict_do_update(index_elements=list(conflict), set_=update)
            if update
            else ins.on_conflict_do_nothing(index_elements=list(conflict))
        )
        _execute_many(conn, stmt, table, shape, rows)


def _pg_copy(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
             conflict: Sequence[str] | None = None, keep: Sequence[str] = ()) -> None:
    """PostgreSQL: COPY the rows in (into a temporary table first for an upsert, then INSERT ... SELECT ... ON
    CONFLICT). An executemany sends one statement per row; COPY streams them, about four times faster on a
    400,000-person sync. Within one upsert the last row of a key wins, as with executemany."""
    if not rows:
        return
    tuples = _converted(conn, table, columns, rows, f"COPY {table.name}")
    cols = ", ".join(f'"{c}"' for c in columns)
    target = f'"{table.name}"'
    if conflict is not None:
        at = [list(columns).index(c) for c in conflict]
        tuples = list({tuple(t[i] for i in at): t for t in tuples}.values())
    try:
        with conn.connection.driver_connection.cursor() as cur:   # type: ignore[union-attr]
            if conflict is not None:
                target = '"_syncd_load"'
                cur.execute(f'CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS SELECT {cols} FROM "{table.name}" '
                            "WITH NO DATA")
            with cur.copy(f"COPY {target} ({cols}) FROM STDIN") as copy:
                for t in tuples:
                    copy.write_row(t)
            if conflict is not None:
                update = [c for c in columns if c not in conflict and c not in keep]
                action = ("DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update)
                          if update else "DO NOTHING")
                cur.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM {target} '
                            f'ON CONFLICT ({", ".join(conflict)}) {action}')
                cur.execute(f"DROP TABLE {target}")
    except conn.dialect.loaded_dbapi.Error as e:
        classify_driver_error(conn, e)
        raise


def _execute_many(conn: Connection, stmt: Any, table: Table, columns: Sequence[str],
                  rows: Sequence[Sequence[Any]]) -> None:
    """executemany of ``stmt`` over ``rows`` (tuples in ``columns`` order), straight to the driver.

    What is skipped is SQLAlchemy's per-row parameter bookkeeping, which cost more than the database's own work
    on a full sync; the values still go through their column types (see :func:`_converted`).
    """
    if not rows:
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(columns))
    tuples = _converted(conn, table, columns, rows, str(compiled))
    if compiled.positional:
        order = [list(columns).index(name) for name in compiled.positiontup or ()]
        params: list[Any] = tuples if order == list(range(len(columns))) else [
            tuple(t[i] for i in order) for t in tuples]
    else:
        params = [dict(zip(columns, t, strict=True)) for t in tuples]
    conn.exec_driver_sql(str(compiled), params)


def _converted(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
               statement: str) -> list[tuple[Any, ...]]:
    """The rows with each value through its column type's own bind processing (UTC timestamps, JSON), so what
    is stored is exactly what ``conn.execute(stmt, dicts)`` would store. A bulk write repeats the same timestamp
    in every row, so each column remembers its last conversion."""
    procs = [table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns]
    converted = list(zip(*rows, strict=True))
    for i, proc in enumerate(procs):
        if proc is not None:
            try:
                converted[i] = _convert_column(converted[i], proc)
            except (TypeError, ValueError) as e:      # as conn.execute reports a value its type refuses
                raise StatementError(str(e), statement, None, e) from e
    return list(zip(*converted, strict=True))


def _convert_column(values: Sequence[Any], proc: Any) -> list[Any]:
    out: list[Any] = []
    last_in: Any = object()
    last_out: Any = None
    for v in values:
        if v is None:
            out.append(None)
            continue
        if v is not last_in:
            last_in, last_out = v, proc(v)
        out.append(last_out)
    return out


# --- writers -------------------------------------------------------------------------------------------------


def upsert_people(conn: Connection, rows: Iterable[Mapping[str, Any]],
                  ids_for: Collection[str] | None = None) -> dict[str, int]:
    """Insert or update people keyed by ``email``; returns ``{email: id}`` of every row written (or of those
    whose e-mail is in ``ids_for``: a first sync needs no id of the 400,000 people it creates).

    Each row holds ``email`` and the columns to set (see :data:`~syncd.store.tables.people`; a new person needs
    every non-null column). ``created_at`` is kept from the first insert; ``id`` is never changed.
    """
    t = tables.people
    ids: dict[str, int] = {}
    for chunk in chunks(rows, CHUNK):
        _upsert(conn, t, chunk, ("email",), keep=("created_at", "id"))
        wanted = (r["email"] for r in chunk if ids_for is None or r["email"] in ids_for)
        for emails in chunks(wanted, IN_CHUNK):
            ids.update(conn.execute(select(t.c.email, t.c.id).where(t.c.email.in_(emails))).tuples().all())
    return ids


def upsert_source_records(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or update source records keyed by (``source``, ``source_key``); returns the number of rows."""
    n = 0
    for chunk in chunks(rows, CHUNK):
        _upsert(conn, tables.source_records, chunk, ("source", "source_key"))
        n += len(chunk)
    return n


def upsert_licenses(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert or replace the held license of each ``person_id`` (one license per person)."""
    _upsert(conn, tables.licenses, rows, ("person_id",))


def delete_source_records(conn: Connection, source: str, keys: Iterable[str]) -> int:
    """Remove records of ``source`` by key (records the source no longer returns); returns the number removed."""
    t = tables.source_records
    n = 0
    for chunk in chunks(keys, IN_CHUNK):
        n += conn.execute(delete(t).where(t.c.source == source, t.c.source_key.in_(chunk))).rowcount
    return n


def save_cursor(
    conn: Connection, source: str, data: Mapping[str, Any], run_id: str | None, at: datetime | None = None
) -> None:
    """Store a source's cursor; it takes effect only when the caller's transaction commits."""
    row = {"source": source, "data": dict(data), "run_id": run_id, "updated_at": at or datetime.now(UTC)}
    _upsert(conn, tables.cursors, [row], ("source",))


def append_journal(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Append journal rows (``run_id, at, actor, person, event, source, rule, sentence, before, after,
    decision``; the optional ones may be left out). Returns the number of rows appended."""
    t = tables.journal
    cols = [c.name for c in t.columns if c.name != "id"]
    n = 0
    stmt = t.insert()
    for chunk in chunks(rows, CHUNK):
        tuples = [tuple(map(r.get, cols)) for r in chunk]
        if conn.dialect.name == "postgresql":
            _pg_copy(conn, t, cols, tuples)
        else:
            _execute_many(conn, stmt, t, cols, tuples)
        n += len(chunk)
    return n


# --- readers -------------------------------------------------------------------------------------------------


def load_cursors(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every source's stored cursor, by source name."""
    t = tables.cursors
    return {source: data for source, data in conn.execute(select(t.c.source, t.c.data))}


def journal_rows(
    conn: Connection,
    person: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[Row[Any]]:
    """Journal rows, oldest first: of one person (e-mail key) and/or at or after ``since``; with ``limit``, the
    newest ``limit`` of them (still oldest first)."""
    t = tables.journal
    stmt = select(t)
    if person is not None:
        stmt = stmt.where(t.c.person == person)
    if since is not None:
        stmt = stmt.where(t.c.at >= since)
    if limit is None:
        return list(conn.execute(stmt.order_by(t.c.id)))
    rows = list(conn.execute(stmt.order_by(t.c.id.desc()).limit(limit)))
    rows.reverse()
    return rows
