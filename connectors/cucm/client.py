"""The AXL transport: zeep builds and sends each request; the raw response is checked and parsed with lxml.

One :class:`AxlClient` per source (publisher): its own ``requests.Session`` (keep-alive, the JSESSIONIDSSO cookie,
``trust_env = False`` so ``REQUESTS_CA_BUNDLE`` and proxies from the environment cannot override the configured
trust), its own zeep client and retry state. Nothing here is global, so several clusters never share anything.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import requests
import zeep
from lxml import etree
from requests.auth import HTTPBasicAuth
from urllib3.exceptions import InsecureRequestWarning
from zeep.transports import Transport

from connectors.axl.faults import Fault, parse_fault
from connectors.axl.xml import (
    BINDING,
    MalformedXmlError,
    UnsafeXmlError,
    axl_ns,
    is_fault,
    parse_marked,
    soap_payload,
)
from connectors.base import SourceError
from connectors.transport import RetryBudget, host_port, one_line, request_failure

from .options import DEFAULT_TUNING, CucmOptions, Tuning

log = logging.getLogger("connectors.cucm")

WSDL_DIR = Path(__file__).resolve().parent.parent / "wsdl"
SHIPPED_WSDL = WSDL_DIR / "AXLAPI.wsdl"
SHIPPED_VERSION = "14.0"


class AxlError(SourceError):
    """An AXL call failed. ``kind``: auth, session, http, network, unreachable, timeout, tls, malformed, unsafe,
    fault, too_large, memory, config. ``fault`` holds the parsed SOAP fault when there was one."""

    def __init__(self, message: str, *, kind: str, temporary: bool, fault: Fault | None = None) -> None:
        super().__init__(message, temporary=temporary)
        self.kind = kind
        self.fault = fault


class _AxlTransport(Transport):
    """zeep's transport, serving the shipped WSDL/XSD with the configured AXL version in every namespace and
    soapAction."""

    def __init__(self, version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._version = version

    def load(self, url: str) -> bytes:
        path = Path(url)
        if path.is_absolute() and path.parent == WSDL_DIR:
            text = path.read_bytes()
            if self._version != SHIPPED_VERSION:
                v = self._version.encode()
                text = (text.replace(b"/AXL/API/14.0", b"/AXL/API/" + v)
                        .replace(b"ver=14.0 ", b"ver=" + v + b" ")
                        .replace(b'version="14.0"', b'version="' + v + b'"'))
            return text
        return super().load(url)


class AxlClient:
    """Sends AXL operations to one publisher and returns each response's payload element."""

    def __init__(self, opts: CucmOptions, *, tuning: Tuning = DEFAULT_TUNING, sleep: Any = time.sleep) -> None:
        self.opts = opts
        self.tuning = tuning
        self._sleep = sleep
        if opts.insecure:
            # The connector says so loudly once per run; urllib3 would repeat it on every request.
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        self._session = self._new_session()
        self._transport = _AxlTransport(
            opts.version, session=self._session, timeout=opts.timeout, operation_timeout=opts.timeout
        )
        settings = zeep.Settings(
            raw_response=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False
        )
        wsdl = os.path.abspath(opts.wsdl) if opts.wsdl else str(SHIPPED_WSDL)
        try:
            self._zeep = zeep.Client(wsdl, transport=self._transport, settings=settings)
        except Exception as e:      # zeep raises many types (OSError, XMLSyntaxError, its own); all mean "bad wsdl"
            raise ValueError(f"cannot load the AXL WSDL {wsdl}: {one_line(e, 160)}") from None
        # CUCM wants the trailing slash (https://HOST:8443/axl/); a missing one is a common typo.
        self._url = opts.url if opts.url.endswith("/") else opts.url + "/"
        self._service = self._zeep.create_service(BINDING, self._url)
        self._check_versions()
        self.requests_sent = 0
        self.retries = RetryBudget(opts.retries, opts.retry_budget, tuning.backoff_base, tuning.backoff_cap)

    # -- construction -------------------------------------------------------------------------------------

    def _new_session(self) -> requests.Session:
        s = requests.Session()
        s.trust_env = False                 # REQUESTS_CA_BUNDLE / proxies from the environment are ignored
        s.auth = HTTPBasicAuth(self.opts.username, self.opts.secret())
        s.verify = False if self.opts.insecure else (self.opts.ca_file or True)
        s.headers["User-Agent"] = "syncd-cucm"
        return s

    def _check_versions(self) -> None:
        """The namespace and the soapAction must both be for the configured version (a site WSDL may differ)."""
        ns = axl_ns(self.opts.version)
        binding = self._service._binding
        for op in ("listUser", "getUser", "executeSQLQuery", "listChange"):
            try:
                operation = binding.get(op)
            except ValueError:
                raise ValueError(f"the WSDL has no {op} operation") from None
            want = f"CUCM:DB ver={self.opts.version} {op}"
            if operation.soapaction != want:
                raise ValueError(
                    f"the WSDL is for another AXL version (soapAction {operation.soapaction!r}, "
                    f"version = {self.opts.version!r})"
                )
            try:
                self._zeep.get_element(f"{{{ns}}}{op}")
            except LookupError:
                raise ValueError(f"the WSDL does not define {op} in namespace {ns}") from None

    def renew_session(self) -> None:
        """Drop the session (cookie, pooled connections) and start a fresh one."""
        self._session.close()
        self._session = self._new_session()
        self._transport.session = self._session

    def close(self) -> None:
        self._session.close()

    # -- calls --------------------------------------------------------------------------------------------

    def call(self, op: str, **kwargs: Any) -> etree._Element:
        """Call ``op`` and return its response element (``{ns}opResponse``). Temporary failures are retried with
        capped exponential backoff and jitter, at most ``retries`` times per call and for at most
        ``retry_budget`` seconds in all over this client's life (one read), so a CUCM that stays down fails the
        read in bounded time; each retry is logged at INFO. An HTTP 404 (expired session) is retried once with a
        new session. Raises :class:`AxlError` when the call cannot succeed."""
        attempt = 0
        renewed = False
        while True:
            started = time.monotonic()
            try:
                return self._once(op, kwargs)
            except AxlError as e:
                if e.kind == "session" and not renewed:
                    renewed = True
                    log.info("%s: %s: HTTP 404, retrying once with a new session", self.opts.name, op)
                    self.renew_session()
                    continue
                delay = self.retries.wait(e, attempt, started) if e.temporary else None
                if delay is None:
                    raise
                attempt += 1
                self.retries.log(self.opts.name, op, e, attempt, delay)
                self._sleep(delay)

    def _once(self, op: str, kwargs: dict[str, Any]) -> etree._Element:
        self.requests_sent += 1
        where = host_port(self._url)
        try:
            resp = getattr(self._service, op)(**kwargs)
        except requests.exceptions.RequestException as e:
            raise request_failure(e, op, where, self.opts.timeout, AxlError) from None
        return self._payload(op, resp.status_code, resp.headers.get("Content-Type", ""), resp.content)

    def _payload(self, op: str, status: int, ctype: str, body: bytes) -> etree._Element:
        if status in (401, 403):
            raise AxlError(f"authentication failed (HTTP {status}) for user {self.opts.username!r}",
                           kind="auth", temporary=False)
        if status == 404:
            raise AxlError(f"HTTP 404 from {self._url} (no AXL service there, or the session expired)",
                           kind="session", temporary=False)
        looks_xml = "xml" in ctype.lower() or body.lstrip()[:5] in (b"<?xml", b"<soap", b"<Soap", b"<SOAP")
        if status == 200 or (status == 500 and looks_xml):
            try:
                payload = soap_payload(parse_marked(body))
            except UnsafeXmlError as e:
                raise AxlError(f"{op}: response refused: {e}", kind="unsafe", temporary=False) from None
            except MalformedXmlError as e:
                raise AxlError(f"{op}: {one_line(e, 160)}", kind="malformed", temporary=True) from None
            if is_fault(payload):
                raise self._fault_error(op, parse_fault(payload))
            if status != 200:
                raise AxlError(f"{op}: HTTP {status} without a SOAP fault", kind="http", temporary=True)
            return payload
        if status in (502, 503, 504) or status >= 500:
            raise AxlError(f"{op}: HTTP {status} (service unavailable)", kind="http", temporary=True)
        if status == 429:
            raise AxlError(f"{op}: HTTP 429 (throttled)", kind="http", temporary=True)
        raise AxlError(f"{op}: unexpected HTTP {status}", kind="http", temporary=False)

    @staticmethod
    def _fault_error(op: str, fault: Fault) -> AxlError:
        code = f" (axlcode {fault.axlcode})" if fault.axlcode is not None else ""
        text = f"{op} fault{code}: {one_line(fault.message, 160)}"
        if fault.too_large:
            return AxlError(text, kind="too_large", temporary=False, fault=fault)
        if fault.memory:
            return AxlError(text, kind="memory", temporary=True, fault=fault)
        return AxlError(text, kind="fault", temporary=False, fault=fault)
