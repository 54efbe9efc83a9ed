"""The CWMS XML API client: LstsummaryUser pages, GetUser and SetUser ``active``, one request at a time.

One :class:`CwmsClient` per site: its own ``requests.Session`` (``trust_env = False``, so ``REQUESTS_CA_BUNDLE``
and proxies from the environment cannot override the configured trust; TLS verified by default, against
``ca_file`` when set). Failures are classed as the AXL client's are: a refused connection, a name that does not
resolve or a certificate that does not verify is permanent; HTTP 5xx, timeouts, dropped connections, an HTML or
non-XML answer, and CWMS's own transient codes (000035 "ASService not responding", 000045 rate limit) are
temporary, retried with capped backoff at most ``retries`` times per request and within a retry budget per client.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from typing import Any

import requests
from urllib3.exceptions import InsecureRequestWarning

from connectors.axl.xml import MalformedXmlError, UnsafeXmlError
from connectors.base import SourceError
from connectors.transport import RetryBudget, host_port, one_line, request_failure

from . import xmlapi
from .options import DEFAULT_TUNING, MAX_PAGE, CwmsOptions, Tuning
from .records import CwmsAccount, CwmsResult, from_row
from .xmlapi import USE, Response, child_text

log = logging.getLogger("connectors.cwms")

TRANSIENT_IDS = {"000035": "ASService not responding", "000045": "API rate limit reached"}
NO_RECORD = "000015"
USER_NOT_FOUND = "030001"
BAD_CREDENTIALS = "030002"


class CwmsError(SourceError):
    """A CWMS request failed. ``kind``: auth, failure, http, network, unreachable, timeout, tls, malformed, unsafe,
    incomplete. ``exception_id`` and ``reason`` hold what a FAILURE said."""

    def __init__(self, message: str, *, kind: str, temporary: bool, exception_id: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message, temporary=temporary)
        self.kind = kind
        self.exception_id = exception_id
        self.reason = reason


_FIELDS = {f"{{{USE}}}{name}": name for name in ("webExId", "email", "active", "firstName", "lastName")}


def _account(el: Any) -> CwmsAccount:
    # One pass over the user's children: a site's full read holds hundreds of thousands of them.
    got: dict[str, str | None] = {}
    for child in el:
        name = _FIELDS.get(child.tag)
        if name is not None:
            got[name] = (child.text or "").strip() or None
    webex_id, active = got.get("webExId"), got.get("active")
    if webex_id is None or active is None:
        raise CwmsError("a user without webExId or active in the response", kind="malformed", temporary=True)
    return CwmsAccount(webex_id=webex_id, email=got.get("email"), active=active,
                       first_name=got.get("firstName"), last_name=got.get("lastName"))


class CwmsClient:
    """Sends XML API requests to one CWMS site."""

    def __init__(self, opts: CwmsOptions, *, tuning: Tuning = DEFAULT_TUNING, sleep: Any = time.sleep) -> None:
        self.opts = opts
        self.tuning = tuning
        self._sleep = sleep
        if opts.insecure:
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        self._session = requests.Session()
        self._session.trust_env = False
        self._session.verify = False if opts.insecure else (opts.ca_file or True)
        self._session.headers.update({"User-Agent": "syncd-cwms", "Content-Type": "text/xml; charset=UTF-8"})
        self.requests_sent = 0
        self.retries = RetryBudget(opts.retries, tuning.retry_budget, tuning.backoff_base, tuning.backoff_cap)

    def close(self) -> None:
        self._session.close()

    # -- the operations -----------------------------------------------------------------------------------

    def list_pages(self, page_size: int | None = None) -> Iterator[list[str]]:
        """Every account, page by page (``order UID ASC``, ``startFrom`` advanced by ``returned``), each page as its
        users' lines (:func:`connectors.cwms.xmlapi.user_rows`; :func:`connectors.cwms.records.from_row` reads one).
        Raises :class:`CwmsError` when a page fails, or when the pages do not add up to one consistent list (a total
        that changes, a page that comes back short or empty before the end, an account seen twice): what was
        yielded before then is never the whole site. A site with no account at all yields nothing."""
        size = page_size or self.opts.page_size
        if not 1 <= size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}, not {size}")
        # The accounts seen, by the hash of their webExId: a collision can only fail a read ("listed twice"),
        # never pass a wrong one, and a site's worth of ints is a fraction of its ids.
        start, total, seen = 1, None, set()
        while total is None or start <= total:
            children: list[xmlapi.Child] = [
                ("listControl", [("startFrom", str(start)), ("maximumNum", str(size))]),
                ("order", [("orderBy", "UID"), ("orderAD", "ASC")]),
            ]
            resp = self._call("LstsummaryUser", children, allow={NO_RECORD})
            if not resp.ok:                 # 000015: no record at all, or none left
                if total is None:
                    return
                raise self._incomplete(f"no record at startFrom {start} of {total}")
            rows = xmlapi.user_rows(resp.content)
            matching = resp.content.find(f"{{{USE}}}matchingRecords")
            if matching is None:
                raise CwmsError("LstsummaryUser: no matchingRecords in the response", kind="malformed",
                                temporary=True)
            counts = {k: child_text(matching, k, xmlapi.SERV) for k in ("total", "returned", "startFrom")}
            try:
                page_total, returned = int(counts["total"] or ""), int(counts["returned"] or "")
            except ValueError:
                raise CwmsError(f"LstsummaryUser: unreadable matchingRecords {counts}", kind="malformed",
                                temporary=True) from None
            if total is not None and page_total != total:
                raise self._incomplete(f"the total changed from {total} to {page_total} while paging")
            total = page_total
            if returned != len(rows) or returned == 0 or returned > size:
                raise self._incomplete(f"page at startFrom {start} says returned {returned}, holds {len(rows)}")
            for row in rows:
                webex_id, _, active = row.split("\t", 3)[:3]
                webex_id = webex_id.strip()
                if not webex_id or not active.strip():
                    raise CwmsError("a user without webExId or active in the response", kind="malformed",
                                    temporary=True)
                if hash(webex_id) in seen:
                    raise self._incomplete(f"account {webex_id!r} listed twice")
                seen.add(hash(webex_id))
            yield rows
            start += returned
        if len(seen) != total:
            raise self._incomplete(f"{len(seen)} accounts read of {total}")

    def list_accounts(self, page_size: int | None = None) -> Iterator[CwmsAccount]:
        """Every account (:meth:`list_pages`), one at a time."""
        for rows in self.list_pages(page_size):
            yield from map(from_row, rows)

    def get_user(self, webex_id: str) -> CwmsAccount | None:
        """The account, or None when CWMS has no such user (030001)."""
        resp = self._call("GetUser", [("webExId", webex_id)], allow={USER_NOT_FOUND})
        return _account(resp.content) if resp.ok else None

    def set_active(self, webex_id: str, active: str) -> CwmsResult:
        """``SetUser`` with only ``webExId`` and ``active``. A FAILURE about the user (unknown, host limit) is
        returned with its exceptionID and reason; failures of the transport, the credentials or the request
        itself raise :class:`CwmsError`. Setting a state twice is harmless, so a retried write is safe."""
        if active not in xmlapi.ACTIVE_VALUES:
            raise ValueError(f"active must be one of {', '.join(xmlapi.ACTIVE_VALUES)}, not {active!r}")
        resp = self._call("SetUser", [("webExId", webex_id), ("active", active)], allow=None)
        return CwmsResult(resp.ok, resp.exception_id, resp.reason)

    # -- requests -----------------------------------------------------------------------------------------

    @staticmethod
    def _incomplete(why: str) -> CwmsError:
        return CwmsError(f"LstsummaryUser: incomplete read: {why}", kind="incomplete", temporary=True)

    def _call(self, op: str, children: list[xmlapi.Child], *, allow: set[str] | None) -> Response:
        """Send ``op`` with retries; a FAILURE whose exceptionID is in ``allow`` (any, with None) comes back, others
        raise. Bad credentials and the request-level codes are permanent whatever ``allow`` says."""
        doc = xmlapi.request_document(op, webex_id=self.opts.username, password=self.opts.secret(),
                                      site_name=self.opts.site_name, children=children)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                return self._checked(op, self._once(op, doc), allow)
            except CwmsError as e:
                throttled = self.tuning.throttle_wait if e.exception_id == "000045" else 0.0
                delay = self.retries.wait(e, attempt, started, at_least=throttled) if e.temporary else None
                if delay is None:
                    raise
                attempt += 1
                self.retries.log("cwms", op, e, attempt, delay)
                self._sleep(delay)

    @staticmethod
    def _checked(op: str, resp: Response, allow: set[str] | None) -> Response:
        if resp.ok:
            return resp
        code, reason = resp.exception_id, resp.reason
        said = f"{op}: FAILURE {code or '(no exceptionID)'}: {one_line(reason or 'no reason given', 160)}"
        if code == BAD_CREDENTIALS:
            raise CwmsError(said, kind="auth", temporary=False, exception_id=code, reason=reason)
        if code in TRANSIENT_IDS:
            raise CwmsError(said, kind="failure", temporary=True, exception_id=code, reason=reason)
        if code in ("000000", "000001") or (allow is not None and code not in allow):
            raise CwmsError(said, kind="failure", temporary=False, exception_id=code, reason=reason)
        return resp

    def _once(self, op: str, doc: bytes) -> Response:
        self.requests_sent += 1
        where = host_port(self.opts.url)
        try:
            resp = self._session.post(self.opts.url, data=doc, timeout=self.opts.timeout, allow_redirects=False)
        except requests.exceptions.RequestException as e:
            raise request_failure(e, op, where, self.opts.timeout, CwmsError) from None
        if resp.status_code != 200:
            # 4xx other than throttling means a wrong URL or a refused client: waiting does not mend it.
            temporary = resp.status_code >= 500 or resp.status_code == 429
            raise CwmsError(f"{op}: HTTP {resp.status_code} from {where}", kind="http", temporary=temporary)
        ctype = resp.headers.get("Content-Type", "")
        if "xml" not in ctype.lower() and not resp.content.lstrip().startswith(b"<?xml"):
            # A proxy's or load balancer's page with 200: CWMS's state is unknown, so it may pass.
            raise CwmsError(f"{op}: not an XML API answer (HTTP 200, Content-Type {one_line(ctype, 60)!r})",
                            kind="http", temporary=True)
        try:
            return xmlapi.parse_response(resp.content)
        except UnsafeXmlError as e:
            raise CwmsError(f"{op}: response refused: {e}", kind="unsafe", temporary=False) from None
        except MalformedXmlError as e:
            # A cut-off or garbled body: the state is unknown, so it may pass.
            raise CwmsError(f"{op}: {one_line(e, 160)}", kind="malformed", temporary=True) from None
