"""The tables of the state store (SQLAlchemy Core tables).

Every timestamp is an aware UTC datetime (:class:`UTCDateTime`). The person key ``people.email`` is normalised by
the caller (NFC, trimmed, case-folded; see :mod:`syncd.emails`). The journal is append-only: this package offers
no way to change or remove its rows, and the initial migration installs triggers that reject UPDATE and DELETE
(and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from syncd.store.limits import ACTOR, CONDITION, EMAIL, GRANT_ID, KEY, MEETING_ID, NAME, RECEIVER, RUN_ID, SOURCE
from syncd.store.search import LAST_WORD_INDEX_KEY, NAME_INDEX_KEY, last_word_key, name_key, userid_key
from syncd.store.types import BigIntKey, NullableJSON, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(EMAIL), unique=True, nullable=False),
    Column("display_name", String(NAME)),
    Column("active", Boolean, nullable=False),
    Column("deleted", Boolean, default=False, nullable=False),
    Column("management", String(8), nullable=False),
    Column("in_cucm", Boolean, nullable=False),
    Column("ad_guid", String(KEY), index=True),
    Column("inactive_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deactivated_at", UTCDateTime),
    Column("last_hosted_at", UTCDateTime),
    Column("first_grace_at", UTCDateTime, index=True),
    CheckConstraint("management IN ('local', 'remote')", name="management"),
)


# What syncd keeps of one record of one source (the reconciler's *fact*), with a digest of it.
source_records = Table(
    "source_records",
    metadata,
    Column("source", String(SOURCE), primary_key=True),
    Column("source_key", String(KEY), primary_key=True),
    Column("email_key", String(EMAIL)),
    Column("person_id", ForeignKey("people.id")),
    Column("active", Boolean, nullable=False),
    Column("data", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("run_id", String(RUN_ID)),
    Index("ix_source_records_source_email_key", "source", "email_key"),
)

# The people search (syncd/store/search.py; migration 0009): a name by its first or last word, a CUCM userid.
Index("ix_people_display_name_lower", name_key(people.c.display_name).label(NAME_INDEX_KEY),
      postgresql_ops={NAME_INDEX_KEY: "text_pattern_ops"})
Index("ix_people_display_name_last_word", last_word_key(people.c.display_name).label(LAST_WORD_INDEX_KEY),
      postgresql_ops={LAST_WORD_INDEX_KEY: "text_pattern_ops"})
Index("ix_source_records_source_userid", source_records.c.source, userid_key(source_records.c.data))


demo_grants = Table(
    "demo_grants",
    metadata,
    Column("id", String(GRANT_ID), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("actor", String(ACTOR), nullable=False),
)


# The one host license a person holds (at most one per person).
licenses = Table(
    "licenses",
    metadata,
    Column("person_id", ForeignKey("people.id"), primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("management", String(8), nullable=False),
    Column("assigned_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("state", String(8), nullable=False),
    Column("demo_grant_id", ForeignKey("demo_grants.id")),
    CheckConstraint("kind IN ('trial', 'permanent', 'grace', 'demonstration')", name="kind"),
    CheckConstraint("management IN ('local', 'remote')", name="management"),
    CheckConstraint("state IN ('active', 'expired')", name="state"),
    # the pool's Grace licenses soonest first, and counted by week, without reading the other licenses
    Index("ix_licenses_kind_state_expires_at", "kind", "state", "expires_at", "person_id"),
)


purchases = Table(
    "purchases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("count", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(ACTOR), nullable=False),
)


# The e-mail keys in conflict now: one e-mail on several records of one source (AD: of accounts not deleted). Each
# applied sync writes its plan's; an incremental sync re-plans them all (sync.state.load_state) without grouping every
# source record.
conflicts = Table(
    "conflicts",
    metadata,
    Column("email_key", String(EMAIL), primary_key=True),
)


# The optional trial window: a single row with id 1.
trial = Table(
    "trial",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("start", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    CheckConstraint("id = 1", name="single_row"),
)


# The CWMS version the ledger is on, once `licenses upgrade` recorded one (policy.Ledger.cwms_version): a single
# row with id 1. No row: the ledger follows the configured [licenses] cwms_version.
site = Table(
    "site",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("cwms_version", String(8), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)


# A source's incremental-read position; written in the same transaction as the changes it covers.
cursors = Table(
    "cursors",
    metadata,
    Column("source", String(SOURCE), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("run_id", String(RUN_ID)),
)


runs = Table(
    "runs",
    metadata,
    Column("run_id", String(RUN_ID), primary_key=True),
    Column("started_at", UTCDateTime, index=True, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("actor", String(ACTOR), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("result", String(16)),
    Column("exit_code", Integer),
    Column("summary", NullableJSON),
)


# How each source's read went in each recorded run: what /healthz, the metrics and the dashboard judge a source by.
run_sources = Table(
    "run_sources",
    metadata,
    Column("run_id", String(RUN_ID), ForeignKey("runs.run_id"), primary_key=True),
    Column("source", String(SOURCE), primary_key=True, index=True),
    Column("complete", Boolean, nullable=False),
    Column("full", Boolean, nullable=False),
    Column("records", Integer, nullable=False),
    Column("error", Text),
    Column("seconds", Float, nullable=False),
)


# A meeting hosted under a license; ``ended_at`` is NULL while it is open.
meetings = Table(
    "meetings",
    metadata,
    Column("meeting_id", String(MEETING_ID), primary_key=True),
    Column("person_id", ForeignKey("people.id"), index=True, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, index=True),
)


# The CWMS writes a committed plan asked for (DESIGN.md 12): written in the apply's transaction, worked by the
# sender after commit. ``state`` is pending until CWMS answered: done (written, or already in the target state)
# or failed (a permanent refusal, with CWMS's exceptionID and reason). A pending row outlives a crash.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("run_id", String(RUN_ID), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("email", String(EMAIL), nullable=False),
    Column("webex_id", String(KEY), nullable=False),
    Column("action", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("exception_id", String(32)),
    Column("reason", Text),
    CheckConstraint("action IN ('deactivate', 'activate')", name="action"),
    CheckConstraint("state IN ('pending', 'done', 'failed')", name="state"),
    Index("ix_outbox_state_id", "state", "id"),
    Index("ix_outbox_webex_id", "webex_id"),
)


# What each alert receiver was last told of each alert condition (syncd/daemon/alerts): a row while the receiver
# knows the condition as standing, from the delivered "started" alert to the delivered "cleared" one. A send that
# failed changes nothing here, so the alert is sent again after the next run.
alert_state = Table(
    "alert_state",
    metadata,
    Column("condition", String(CONDITION), primary_key=True),
    Column("receiver", String(RECEIVER), primary_key=True),
    Column("since", UTCDateTime, nullable=False),
    Column("told_at", UTCDateTime, nullable=False),
)


# One row of the append-only audit trail: a change or a decision, with the sentence an admin reads.
journal = Table(
    "journal",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("run_id", String(RUN_ID), index=True),
    Column("at", UTCDateTime, index=True, nullable=False),
    Column("actor", String(ACTOR), nullable=False),
    Column("person", String(EMAIL)),
    Column("event", String(64), nullable=False),
    Column("source", String(SOURCE)),
    Column("rule", String(16)),
    Column("sentence", Text, nullable=False),
    Column("before", NullableJSON),
    Column("after", NullableJSON),
    Column("decision", NullableJSON),
    Index("ix_journal_person_id", "person", "id"),
)
