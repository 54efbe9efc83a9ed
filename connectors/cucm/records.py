"""The record a CUCM read yields."""

from __future__ import annotations

from dataclasses import dataclass


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
