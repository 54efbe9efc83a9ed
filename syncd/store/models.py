"""The tables of the state store (SQLAlchemy 2 declarative models).

Every timestamp is an aware UTC datetime (:class:`UTCDateTime`). The person key ``people.email`` is normalised by
the caller (NFC, trimmed, case-folded; see :mod:`syncd.emails`). The journal is append-only: this package offers
no way to change or remove its rows, and the initial migration installs triggers that reject UPDATE and DELETE
(and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import BigIntKey, NullableJSON, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

EMAIL = 320  # RFC 5321 maximum
SOURCE = 64  # a configured source name
KEY = 128  # a source's record key: CUCM pkid, AD objectGUID, file row key
RUN_ID = 32  # uuid4 hex
ACTOR = 128  # cli:$USER | api | scheduler


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (CheckConstraint("management IN ('local', 'remote')", name="management"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(EMAIL), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    management: Mapped[str] = mapped_column(String(8))
    in_cucm: Mapped[bool] = mapped_column(Boolean)
    ad_guid: Mapped[str | None] = mapped_column(String(KEY), index=True)
    inactive_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_hosted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_grace_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SourceRecord(Base):
    """What syncd keeps of one record of one source (the reconciler's *fact*), with a digest of it."""

    __tablename__ = "source_records"
    __table_args__ = (Index("ix_source_records_source_email_key", "source", "email_key"),)

    source: Mapped[str] = mapped_column(String(SOURCE), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    email_key: Mapped[str | None] = mapped_column(String(EMAIL))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    active: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[str | None] = mapped_column(String(RUN_ID))


class DemoGrant(Base):
    __tablename__ = "demo_grants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR))


class License(Base):
    """The one host license a person holds (at most one per person)."""

    __tablename__ = "licenses"
    __table_args__ = (
        CheckConstraint("kind IN ('trial', 'permanent', 'grace', 'demonstration')", name="kind"),
        CheckConstraint("management IN ('local', 'remote')", name="management"),
        CheckConstraint("state IN ('active', 'expired')", name="state"),
    )

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    management: Mapped[str] = mapped_column(String(8))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(8))
    demo_grant_id: Mapped[str | None] = mapped_column(ForeignKey("demo_grants.id"))


class Purchase(Base):
    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    count: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR))


class Trial(Base):
    """The optional trial window: a single row with id 1."""

    __tablename__ = "trial"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Cursor(Base):
    """A source's incremental-read position; written in the same transaction as the changes it covers."""

    __tablename__ = "cursors"

    source: Mapped[str] = mapped_column(String(SOURCE), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    run_id: Mapped[str | None] = mapped_column(String(RUN_ID))


class Run(Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(RUN_ID), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR))
    mode: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)


class Meeting(Base):
    """A meeting hosted under a license; ``ended_at`` is NULL while it is open."""

    __tablename__ = "meetings"

    meeting_id: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class JournalEntry(Base):
    """One row of the append-only audit trail: a change or a decision, with the sentence an admin reads."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_person_id", "person", "id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String(RUN_ID), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR))
    person: Mapped[str | None] = mapped_column(String(EMAIL))
    event: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(SOURCE))
    rule: Mapped[str | None] = mapped_column(String(16))
    sentence: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    decision: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)


metadata = Base.metadata
people = cast(Table, Person.__table__)
source_records = cast(Table, SourceRecord.__table__)
licenses = cast(Table, License.__table__)
purchases = cast(Table, Purchase.__table__)
demo_grants = cast(Table, DemoGrant.__table__)
trial = cast(Table, Trial.__table__)
cursors = cast(Table, Cursor.__table__)
runs = cast(Table, Run.__table__)
meetings = cast(Table, Meeting.__table__)
journal = cast(Table, JournalEntry.__table__)
