"""What syncd keeps of a CUCM user: a person-making fact (role ``PEOPLE``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from connectors.base import Removed, Role
from connectors.cucm.records import CucmUser
from connectors.facts import digest, norm_key, person_key


@dataclass(frozen=True, slots=True)
class CucmFact:
    role: ClassVar[Role] = Role.PEOPLE

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

    def active_at(self, now: datetime) -> bool:
        return self.status == 1

    def inactive_reason(self, source: str) -> str:
        return _inactive(self.status, source)

    @property
    def digest(self) -> str:
        return digest(self.raw_email, self.userid, self.name, self.status, self.ldap_synced)

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
        return cls(norm_key(r.uuid), person_key(r.mailid), r.mailid, r.userid, name, r.status, r.ldap_synced)

    @classmethod
    def convert(cls, r: CucmUser) -> CucmFact | Removed:
        """What a read keeps of each record as it arrives: a removed user only names a key to drop."""
        return Removed(norm_key(r.uuid)) if r.removed else cls.from_record(r)


@functools.lru_cache(maxsize=64)
def _inactive(status: int, source: str) -> str:
    """One shared string per (status, source): a third of 400,000 people may carry it."""
    return f"CUCM status {status} (Inactive LDAP Synchronized User) in {source}"
