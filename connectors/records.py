"""Record types shared by every connector.

A connector turns one directory source into a :class:`SourceBatch`: the records it read, whether the read
was *complete* (every user of the source was seen, so an absent user really is absent), whether it was a
full or an incremental read, and the cursor to store once the batch has been applied.  A failed or partial
read is marked incomplete; it is never an empty complete read, so it can never deactivate anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class CucmUser:
    """One CUCM end user (table ``enduser`` / AXL ``listUser``)."""

    uuid: str                   # pkid, lower-case, without braces
    userid: str
    mailid: str | None          # as CUCM stores it; the person key is derived later
    firstname: str | None
    lastname: str | None
    status: int                 # 1 active; 2 "Inactive LDAP Synchronized User"
    ldap_synced: bool | None    # True: LDAP-synchronized (remote); False: local; None: unknown
    removed: bool = False       # incremental read: the user was deleted from CUCM

    @property
    def active(self) -> bool:
        return self.status == 1 and not self.removed


@dataclass(frozen=True, slots=True)
class AdUser:
    """One Active Directory user account."""

    guid: str                   # objectGUID, canonical lower-case 8-4-4-4-12 text form
    sam_account_name: str | None
    user_principal_name: str | None
    mail: str | None
    user_account_control: int | None
    account_expires: datetime | None   # None: never expires
    deleted: bool = False       # tombstone (isDeleted)
    in_host_group: bool | None = None  # None: no host group configured
    when_changed: datetime | None = None
    usn_changed: int | None = None
    dn: str | None = None

    @property
    def enabled(self) -> bool:
        return not ((self.user_account_control or 0) & 0x2)

    def expired_at(self, now: datetime) -> bool:
        return self.account_expires is not None and self.account_expires <= now

    def active_at(self, now: datetime) -> bool:
        """Enabled, not expired at ``now``, not deleted and (when a host group is configured) a member."""
        return (
            self.enabled
            and not self.deleted
            and not self.expired_at(now)
            and self.in_host_group is not False
        )


SourceRecord = CucmUser | AdUser
Convert = Callable[[SourceRecord], Any]


def as_is(record: SourceRecord) -> SourceRecord:
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
    source_type: str            # "cucm" | "ad" | "file"
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
    """What every connector implements."""

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
