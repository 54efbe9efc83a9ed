"""What every connector shares: the Connector and Sink protocols, SourceBatch, and the two roles of facts.

A connector turns one directory source into a :class:`SourceBatch`: the records it read, whether the read
was *complete* (every user of the source was seen, so an absent user really is absent), whether it was a
full or an incremental read, and the cursor to store once the batch has been applied.  A failed or partial
read is marked incomplete; it is never an empty complete read, so it can never deactivate anyone.

Each source type also declares a *fact* class (``connectors/<type>/fact.py``): the compact form of a record
that syncd stores (``source_records.data``) and plans with. A fact class plays one of two roles, and the
reconciler treats sources by role, never by type name: :class:`PersonFact` records make people (CUCM users),
:class:`AccountFact` records are directory accounts matched to people (AD accounts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Protocol, runtime_checkable

Convert = Callable[[Any], Any]


def as_is(record: Any) -> Any:
    """The ``convert`` of a caller that keeps the records themselves."""
    return record


@dataclass(slots=True)
class SourceBatch:
    """What one read of one source produced.

    ``records`` may be a list or any re-iterable sequence; when the reader passed ``convert`` to
    :meth:`Connector.read`, it holds what ``convert`` made of each record. ``complete`` is True only when the
    read covered the whole source (a full read that finished) or, for an incremental read, when every change
    since the stored cursor was read. ``full`` says whether this was a full read (absence means removal) or an
    incremental one (only the changed records are present). ``cursor`` is the opaque JSON-serialisable state to
    store when the batch is applied; None keeps the stored cursor. ``error`` is a one-line reason when the read
    failed.
    """

    source: str
    source_type: str            # the registry's type of the records ("cucm", "ad"; a file says what it holds)
    records: Sequence[Any]
    complete: bool
    full: bool
    cursor: dict[str, Any] | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)   # e.g. "queueId changed: full read"

    def __iter__(self) -> Iterator[Any]:
        return iter(self.records)


class SourceError(Exception):
    """A source could not be read. ``temporary`` faults may be retried; permanent ones fail the source."""

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


@runtime_checkable
class Connector(Protocol):
    """What every source connector implements. It is built from its type's options model (the password, if any,
    already resolved by the caller) and reads the source; it never writes to it."""

    name: str
    source_type: str

    def read(self, cursor: dict[str, Any] | None, full: bool, now: datetime,
             convert: Convert | None = None) -> SourceBatch:
        """Read the source. ``full`` forces a full read; a connector may also decide to read fully
        (no cursor, cursor invalidated) and says so in ``SourceBatch.full`` and ``notes``.
        Never raises for a source failure: it returns an incomplete batch with ``error`` set.

        ``convert``, when given, is applied to every record (removed ones included) and the batch holds what
        it returns. The CUCM and AD connectors apply it to a full read's records as they arrive, so a caller
        that keeps a compact form of each record never holds a whole 400,000-user read as records."""
        ...

    def close(self) -> None: ...


DONE, ALREADY, FAILED, RETRY = "done", "already", "failed", "retry"
OUTCOMES = (DONE, ALREADY, FAILED, RETRY)
"""What a sink did with one item: written now; already in the target state (nothing written); refused for good
by the peer; not known to be done (a temporary fault, or a stop), to be sent again later."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a sink did with one item. ``ok``: the item needs no further attempt (``outcome`` done or already);
    else ``error`` is one line saying why. ``exception_id`` and ``reason``: what the peer said when it refused
    (CWMS's exceptionID and reason). ``before``: the item's state as the peer reported it before any write (None
    when it could not be read). ``stop``: the peer refused the whole conversation (wrong credentials,
    unreachable, TLS, an answer that cannot be trusted): the caller stops and keeps this item and the rest for
    later; a stopped item's outcome is "retry"."""

    key: str
    ok: bool
    error: str | None = None
    outcome: str = ""               # one of OUTCOMES; empty: done when ok, else retry
    exception_id: str | None = None
    reason: str | None = None
    before: str | None = None
    stop: bool = False

    def __post_init__(self) -> None:
        if not self.outcome:
            object.__setattr__(self, "outcome", DONE if self.ok else RETRY)
        if self.outcome not in OUTCOMES or self.ok != (self.outcome in (DONE, ALREADY)) or (
                self.stop and self.outcome != RETRY):
            raise ValueError(f"inconsistent PushResult: ok={self.ok}, outcome={self.outcome!r}, stop={self.stop}")


@runtime_checkable
class Sink(Protocol):
    """A peer syncd writes to (the first is CWMS, DESIGN.md 12). ``push`` sends the items in order, one at a time,
    and returns one result per item, in the same order; after a result with ``stop`` it sends nothing more, and
    every later item comes back ``stop`` too. It raises only for a bug, never for a peer's refusal or outage
    (those are results: "failed" for a refusal of the item, "retry" for what may pass, so the caller keeps the
    item for the next attempt). ``preview`` says what ``push`` would do, reading the peer and writing nothing
    (its "done" means "would be written")."""

    name: str

    def push(self, items: Sequence[Any]) -> list[PushResult]: ...

    def preview(self, items: Sequence[Any]) -> list[PushResult]: ...

    def close(self) -> None: ...


class Role(Enum):
    PEOPLE = "people"       # every record with an e-mail makes a person (CUCM users)
    ACCOUNTS = "accounts"   # records are accounts matched to people (AD accounts)


@dataclass(frozen=True, slots=True)
class Removed:
    """What ``Fact.convert`` makes of a record an incremental read reports deleted: only its key matters."""

    key: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """What ``Fact.convert`` makes of a record that the store cannot hold (``connectors.facts`` checks each value):
    it is skipped, counted and named, and a full read keeps the stored fact of its key."""

    key: str
    reason: str


class FactType(Protocol):
    """What the reconciler and the store need of any fact. ``to_data`` is what ``source_records.data`` holds and
    ``digest`` decides whether a record changed: both are a stored format, kept byte-identical across versions."""

    role: ClassVar[Role]
    key: str                  # the record's stable key in its source (CUCM pkid, objectGUID)
    email: str | None         # the person key (``connectors.emails.email_key``)
    raw_email: str | None     # the address as the source wrote it (warnings about how it folded)

    @property
    def digest(self) -> str: ...

    def to_data(self) -> dict[str, Any]: ...

    def active_at(self, now: datetime) -> bool: ...


class PersonFact(FactType, Protocol):
    """A record that makes a person. Its stored data has ``userid`` (matched, case-folded, with ``sam``)."""

    userid: str
    name: str | None
    ldap_synced: bool | None
    active: bool

    def inactive_reason(self, source: str) -> str: ...


class AccountFact(FactType, Protocol):
    """A directory account matched to a person: by GUID once linked, else by mail, else by ``sam`` = userid. Its
    stored data has ``sam``, ``deleted`` and ``expires`` (the scoped incremental load queries them in SQL)."""

    sam: str | None
    deleted: bool

    def expired_at(self, now: datetime) -> bool: ...

    def inactive_reason(self, now: datetime) -> str | None: ...


Fact = PersonFact | AccountFact
