"""Column types shared by the tables and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp that reads back exactly as written on SQLite and PostgreSQL.

    PostgreSQL stores ``timestamptz`` (microseconds) and returns it in the session time zone; SQLite has no
    time zone support, so the value is stored as fixed-width naive UTC text (which also sorts correctly).
    Either way, values read back are aware datetimes in UTC. Naive datetimes are refused on write: a naive
    time is ambiguous, and guessing would silently shift licence expiries.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} (timestamps must carry a time zone)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A 64-bit auto-increment key: BIGINT identity on PostgreSQL, the rowid alias (INTEGER PRIMARY KEY) on SQLite,
# which only auto-increments a column declared exactly INTEGER.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")

# JSON where Python None is SQL NULL (not the JSON literal null), so "IS NULL" means "absent".
NullableJSON = JSON(none_as_null=True)
