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


def from_row(row: str) -> CwmsAccount:
    """The account of one line of :func:`connectors.cwms.xmlapi.user_rows`. A line whose webExId or e-mail held a
    tab, newline or CR comes back without e-mail: it can be counted, never matched to a person or written."""
    webex_id, email, active, first, last, whole = row.split("\t")
    return CwmsAccount(webex_id.strip(), (email.strip() or None) if whole == "1" else None, active.strip(),
                       first or None, last or None)


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
