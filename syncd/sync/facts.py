"""Compact per-source facts: what the reconciler keeps of each source record.

A connector's record (``CucmUser``, ``AdUser``) becomes a fact: the few fields that decide a person's state,
plus a digest so that an unchanged record costs nothing to store again. Facts are what the ``source_records``
table holds (as JSON) and what a later incremental run merges its changes into.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.records import AdUser, CucmUser
from syncd.emails import email_key


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class CucmFact:
    key: str                  # CUCM pkid (uuid)
    email: str | None         # person key
    raw_email: str | None
    userid: str
    name: str | None
    status: int
    ldap_synced: bool | None

    @property
    def active(self) -> bool:
        return self.status == 1

    @property
    def digest(self) -> str:
        return _digest(self.raw_email, self.userid, self.name, self.status, self.ldap_synced)

    def to_data(self) -> dict[str, Any]:
        return {"mailid": self.raw_email, "userid": self.userid, "name": self.name, "status": self.status,
                "ldap_synced": self.ldap_synced}

    @classmethod
    def from_data(cls, key: str, data: dict[str, Any], email: str | None) -> CucmFact:
        return cls(key, email, data.get("mailid"), data["userid"], data.get("name"), int(data["status"]),
                   data.get("ldap_synced"))

    @classmethod
    def from_record(cls, r: CucmUser) -> CucmFact:
        name = " ".join(p for p in (r.firstname, r.lastname) if p) or None
        return cls(_norm_key(r.uuid), _key_of(r.mailid), r.mailid, r.userid, name, r.status, r.ldap_synced)


@dataclass(frozen=True, slots=True)
class AdFact:
    key: str                  # objectGUID
    email: str | None
    raw_email: str | None
    sam: str | None           # sAMAccountName, case-folded
    upn: str | None
    disabled: bool
    deleted: bool
    expires: datetime | None
    in_group: bool | None

    def active_at(self, now: datetime) -> bool:
        return not (self.disabled or self.deleted or self.expired_at(now) or self.in_group is False)

    def expired_at(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now

    def inactive_reason(self, now: datetime) -> str | None:
        if self.deleted:
            return "deleted in AD"
        if self.disabled:
            return "disabled in AD"
        if self.expires is not None and self.expires <= now:
            return f"account expired in AD at {self.expires.isoformat()}"
        if self.in_group is False:
            return "not a member of the host group in AD"
        return None

    @property
    def digest(self) -> str:
        return _digest(self.raw_email, self.sam, self.upn, self.disabled, self.deleted,
                       self.expires.isoformat() if self.expires else None, self.in_group)

    def to_data(self) -> dict[str, Any]:
        return {"mail": self.raw_email, "sam": self.sam, "upn": self.upn, "disabled": self.disabled,
                "deleted": self.deleted, "expires": self.expires.isoformat() if self.expires else None,
                "in_group": self.in_group}

    @classmethod
    def from_data(cls, key: str, data: dict[str, Any], email: str | None) -> AdFact:
        expires = datetime.fromisoformat(data["expires"]) if data.get("expires") else None
        return cls(key, email, data.get("mail"), data.get("sam"), data.get("upn"),
                   bool(data["disabled"]), bool(data["deleted"]), expires, data.get("in_group"))

    @classmethod
    def from_record(cls, r: AdUser) -> AdFact:
        sam = r.sam_account_name.casefold() if r.sam_account_name else None
        return cls(_norm_key(r.guid), _key_of(r.mail), r.mail, sam, r.user_principal_name,
                   not r.enabled, r.deleted, r.account_expires, r.in_host_group)


# A full read keeps 400,000 facts in memory: where the normalised form equals what the source sent (the usual
# case), the fact shares the record's string instead of holding a copy.

def _norm_key(key: str) -> str:
    return key if key.islower() and not key.startswith("{") else key.lower().strip("{}")


def _key_of(raw: str | None) -> str | None:
    key = email_key(raw)
    return raw if key == raw else key


Fact = CucmFact | AdFact


def fact_from_data(source_type: str, key: str, data: dict[str, Any], email: str | None) -> Fact:
    """A stored fact; ``email`` is the person key stored beside it (computed once, when the record was read)."""
    return (CucmFact if source_type == "cucm" else AdFact).from_data(key, data, email)
