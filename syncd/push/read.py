"""Reading every CWMS account (LstsummaryUser pages) into the compact form drift is computed on."""

from __future__ import annotations

import time
from dataclasses import dataclass

from connectors.cwms.client import CwmsClient, CwmsError
from connectors.transport import host_port, one_line
from syncd.logging import get_logger
from syncd.push.drift import Accounts

log = get_logger("syncd.push")


@dataclass(slots=True)
class CwmsRead:
    """One read of the site. ``complete`` only when every page added up (connectors.cwms.client); an incomplete
    read's ``accounts`` are never the whole site, so nothing is planned from them."""

    site: str
    accounts: Accounts
    complete: bool
    error: str | None
    seconds: float


def site_name(client: CwmsClient) -> str:
    """How messages name the site: its siteName and host."""
    return f"CWMS site {client.opts.site_name} ({host_port(client.opts.url)})"


def read_accounts(client: CwmsClient) -> CwmsRead:
    """Every account of the site; a failure comes back as an incomplete read with a one-line ``error`` naming the
    site and the reason (it never raises for the peer's refusal or outage)."""
    started = time.monotonic()
    accounts = Accounts()
    error = None
    try:
        for rows in client.list_pages():
            accounts.add_page(rows)
    except CwmsError as e:
        error = f"{site_name(client)}: {one_line(e, 240)}"
    finally:
        client.close()
    seconds = time.monotonic() - started
    (log.info if error is None else log.warning)(
        "cwms read", site=client.opts.site_name, complete=error is None, accounts=accounts.read, error=error,
        seconds=round(seconds, 3))
    return CwmsRead(client.opts.site_name, accounts, error is None, error, seconds)
