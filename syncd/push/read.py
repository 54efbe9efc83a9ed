"""Reading every CWMS account (LstsummaryUser pages) into the compact form drift is computed on."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.cwms.client import CwmsClient, CwmsError
from connectors.cwms.options import CwmsOptions
from connectors.transport import one_line
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


def read_accounts(opts: CwmsOptions, pages: Iterable[list[str]]) -> CwmsRead:
    """Every account of the site from ``pages`` (:meth:`CwmsClient.list_pages` or
    :func:`connectors.cwms.apart.list_pages_apart`); a failure comes back as an incomplete read with a one-line
    ``error`` naming the site and the reason (it never raises for the peer's refusal or outage)."""
    started = time.monotonic()
    accounts = Accounts()
    error = None
    try:
        for rows in pages:
            accounts.add_page(rows)
    except CwmsError as e:
        error = f"{opts.site}: {one_line(e, 240)}"
    seconds = time.monotonic() - started
    (log.info if error is None else log.warning)(
        "cwms read", site=opts.site_name, complete=error is None, accounts=accounts.read, error=error,
        seconds=round(seconds, 3))
    return CwmsRead(opts.site_name, accounts, error is None, error, seconds)


def read_site(client: CwmsClient) -> CwmsRead:
    """:func:`read_accounts` through ``client``, in this process (a command that does nothing else meanwhile)."""
    try:
        return read_accounts(client.opts, client.list_pages())
    finally:
        client.close()
