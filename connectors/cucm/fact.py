"""What syncd keeps of a CUCM user: a person-making fact (role ``PEOPLE``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from connectors import limits
from connectors.base import Invalid, Removed, Role
from connectors.cucm.records import CucmUser
from connectors.facts import digest, id_problem, norm_key, person_key, text_problem


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

    def problem(self) -> str | None:
        """Why the store cannot hold this fact, or None; a status other than 1 and 2 means nothing to plan by."""
        return (id_problem("key", self.key, limits.KEY) or id_problem("e-mail", self.email, limits.EMAIL)
                or text_problem("mailid", self.raw_email, limits.TEXT)
                or text_problem("userid", self.userid, limits.TEXT) or text_problem("name", self.name, limits.NAME)
                or (None if self.status in (1, 2) else f"status {self.status} is neither 1 nor 2"))

    @classmethod
    def convert(cls, r: CucmUser) -> CucmFact | Removed | Invalid:
        """What a read keeps of each record as it arrives: a removed user only names a key to drop, a user the
        store cannot hold is named and skipped."""
        if r.removed:
            key = norm_key(r.uuid)
            problem = id_problem("key", key, limits.KEY)
            return Invalid(key, problem) if problem else Removed(key)
        fact = cls.from_record(r)
        problem = fact.problem()
        return Invalid(fact.key, problem) if problem else fact


@functools.lru_cache(maxsize=64)
def _inactive(status: int, source: str) -> str:
    """One shared string per (status, source): a third of 400,000 people may carry it. Only 2 is read now; a fact
    stored by an older version may hold another status."""
    if status != 2:
        return f"CUCM status {status} in {source}"
    return f"CUCM status 2 (Inactive LDAP Synchronized User) in {source}"
