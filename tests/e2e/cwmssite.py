"""A syncd site reading CUCM (the AXL simulator) and CWMS (the CWMS simulator), both over TLS, whose CWMS accounts
mirror the CUCM users: one account per CUCM user with a unique e-mail, ACTIVATED when the user is active."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.axlsim import Simulator as AxlSimulator
from connectors.axlsim import SimUser
from connectors.cwmssim import SimAccount
from connectors.cwmssim import Simulator as CwmsSimulator
from syncd.store import tables
from tests.e2e.site import CucmSite


def mirrored(population: Sequence[SimUser]) -> dict[str, SimAccount]:
    """One CWMS account (by webExId) per CUCM user of ``population`` with a unique e-mail, ACTIVATED when active."""
    seen: dict[str, int] = {}
    for u in population:
        if u.mailid:
            seen[u.mailid.casefold()] = seen.get(u.mailid.casefold(), 0) + 1
    return {u.userid: SimAccount(5000 + i, u.userid, u.mailid, "First", u.userid,
                                 "ACTIVATED" if u.status == 1 else "DEACTIVATED")
            for i, u in enumerate(population) if u.mailid and seen[u.mailid.casefold()] == 1}


def mirror(cucm: AxlSimulator, cwms: CwmsSimulator) -> dict[str, str]:
    """Give ``cwms`` the accounts :func:`mirrored` makes of ``cucm``'s users; returns e-mail key -> webExId."""
    accounts = mirrored(cucm.population)
    with cwms.lock:
        cwms.accounts = accounts
    return {a.email.casefold(): a.webex_id for a in accounts.values()}


def states(cwms: CwmsSimulator) -> dict[str, str]:
    with cwms.lock:
        return {w: a.active for w, a in cwms.accounts.items()}


def set_user_requests(cwms: CwmsSimulator) -> int:
    with cwms.lock:
        return cwms.ops.count("SetUser")


DEFAULT_KEYS = "retries = 1\ntimeout = 5"


class CwmsSite(CucmSite):
    """CUCM plus ``[cwms]`` with ``push`` and ``cwms_keys`` (default: one retry, five-second timeout)."""

    def __init__(self, root: Path, db_url: str, cucm: AxlSimulator, cwms: CwmsSimulator, *, push: str = "on",
                 cwms_keys: str = "", password: str | None = None, tail: str = "") -> None:
        self.root = root
        secret = self.write_secret("cwms.secret", password or cwms.password)
        super().__init__(root, db_url, cucm, tail=(
            "[licenses]\ngrace_limit = 2\n\n"
            f'[cwms]\nurl = "{cwms.url}"\nsite_name = "{cwms.site_name}"\nusername = "{cwms.username}"\n'
            f'password_file = "{secret}"\nca_file = "{cwms.ca_file}"\npush = "{push}"\n'
            f"{cwms_keys or DEFAULT_KEYS}\n{tail}"))
        self.cwms = cwms

    def outbox(self) -> list[dict[str, Any]]:
        with self.store() as (conn, _):
            return [dict(r._mapping) for r in conn.execute(select(tables.outbox).order_by(tables.outbox.c.id))]
