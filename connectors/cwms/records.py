"""What a CWMS read yields and what a CWMS write answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CwmsAccount:
    """One CWMS (WebEx) user account, as LstsummaryUser or GetUser reports it."""

    webex_id: str
    email: str | None
    active: str                 # ACTIVATED, REQUEST_TO_ACTIVATE or DEACTIVATED
    first_name: str | None
    last_name: str | None

    @property
    def activated(self) -> bool:
        return self.active == "ACTIVATED"


@dataclass(frozen=True, slots=True)
class CwmsResult:
    """What CWMS answered a write: SUCCESS, or FAILURE with its machine code and human text."""

    ok: bool
    exception_id: str | None = None
    reason: str | None = None

    @property
    def host_limit(self) -> bool:
        """CWMS refused an activation because the site has no host license left (reference section 4: detected
        by the token, case-insensitively, wherever it appears)."""
        return "exceededsitehostlimit" in f"{self.exception_id or ''} {self.reason or ''}".lower()
