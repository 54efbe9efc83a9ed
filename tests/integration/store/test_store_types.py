"""Timestamps: aware UTC in, the exact same instant (to the microsecond) and aware UTC out, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError

from syncd.store import bulk, tables
from tests.integration.store.storehelp import person

INSTANTS = [
    datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, 0, 500000, tzinfo=timezone(timedelta(hours=2))),  # not UTC on the way in
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2038, 1, 19, 3, 14, 8, 123456, tzinfo=UTC),
]


def test_aware_datetimes_round_trip_exactly(engine: Engine) -> None:
    rows = [person(i, created_at=t, updated_at=t, last_hosted_at=t) for i, t in enumerate(INSTANTS)]
    with engine.begin() as conn:
        bulk.upsert_people(conn, rows)
    with engine.connect() as conn:
        got = conn.execute(
            select(tables.people.c.created_at, tables.people.c.last_hosted_at).order_by(tables.people.c.email)
        ).all()
    for (created, hosted), want in zip(got, INSTANTS, strict=True):
        assert created == want and hosted == want
        assert created.tzinfo is UTC and created.utcoffset() == timedelta(0)
        assert created.astimezone(UTC).isoformat() == want.astimezone(UTC).isoformat()


def test_comparisons_follow_the_instant_not_the_offset(engine: Engine) -> None:
    rows = [person(i, created_at=t, updated_at=t) for i, t in enumerate(INSTANTS)]
    with engine.begin() as conn:
        bulk.upsert_people(conn, rows)
    cut = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # INSTANTS[2] is 2026-03-28T23:30Z
    with engine.connect() as conn:
        later = (
            conn.execute(
                select(tables.people.c.email)
                .where(tables.people.c.created_at >= cut)
                .order_by(tables.people.c.created_at)
            )
            .scalars()
            .all()
        )
    assert later == [person(1)["email"], person(4)["email"]]


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        bulk.upsert_people(conn, [person(1, created_at=datetime(2026, 1, 1), updated_at=datetime(2026, 1, 1))])
