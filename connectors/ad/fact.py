"""What syncd keeps of an AD account: an account fact (role ``ACCOUNTS``), matched to people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from connectors import limits
from connectors.ad.records import AdUser
from connectors.base import Invalid, Role
from connectors.facts import digest, id_problem, norm_key, person_key, text_problem


@dataclass(frozen=True, slots=True)
class AdFact:
    role: ClassVar[Role] = Role.ACCOUNTS

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
        return digest(self.raw_email, self.sam, self.upn, self.disabled, self.deleted,
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
        return cls(norm_key(r.guid), person_key(r.mail), r.mail, sam, r.user_principal_name,
                   not r.enabled, r.deleted, r.account_expires, r.in_host_group)

    def problem(self) -> str | None:
        """Why the store cannot hold this fact, or None."""
        return (id_problem("key", self.key, limits.KEY) or id_problem("e-mail", self.email, limits.EMAIL)
                or text_problem("mail", self.raw_email, limits.TEXT)
                or text_problem("sAMAccountName", self.sam, limits.TEXT)
                or text_problem("userPrincipalName", self.upn, limits.TEXT))

    @classmethod
    def convert(cls, r: AdUser) -> AdFact | Invalid:
        """What a read keeps of each record as it arrives; an account the store cannot hold is named and skipped."""
        fact = cls.from_record(r)
        problem = fact.problem()
        return Invalid(fact.key, problem) if problem else fact
