"""The record an Active Directory read yields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
