"""`syncd check` for a CUCM source: reach the publisher, verify its certificate, authenticate, see that the AXL
version is served, and read one user, with the trust, credentials and calls a sync uses."""

from __future__ import annotations

import contextlib
import ssl
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from connectors.check import Step, StepFailed, certificate_hint, reach, run_steps

from . import sql
from .client import AxlClient, AxlError
from .options import CucmOptions
from .parse import page_extent


class _Probe:
    def __init__(self, opts: CucmOptions) -> None:
        # One try per call: a test of the connection reports a busy CUCM rather than waiting for it.
        self.opts = opts.model_copy(update={"retries": 0})
        parts = urlsplit(opts.url)
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.error: AxlError | None = None
        self.rows = 0

    def reach(self) -> str:
        reach(self.host, self.port, self.opts.timeout, "the Cisco AXL Web Service").close()
        return f"{self.host}:{self.port} accepts connections"

    def tls(self) -> str:
        if self.opts.insecure:
            return "certificate NOT verified (insecure = true)"
        ctx = ssl.create_default_context(cafile=self.opts.ca_file or DEFAULT_CA_BUNDLE_PATH)
        sock = reach(self.host, self.port, self.opts.timeout, "the Cisco AXL Web Service")
        try:
            with ctx.wrap_socket(sock, server_hostname=self.host) as tls:
                return f"certificate verified ({tls.version()})"
        except ssl.SSLCertVerificationError as e:
            raise StepFailed(f"certificate refused: {e.verify_message}",
                             certificate_hint(str(e.verify_message), self.host)) from None
        except (ssl.SSLError, OSError) as e:
            raise StepFailed(f"TLS handshake failed: {e}", "is this port TLS (https)?") from None
        finally:
            sock.close()

    def authenticate(self) -> str:
        """The one AXL call (a page of one user); its answer also decides the version and read steps."""
        try:
            client = AxlClient(self.opts)
        except ValueError as e:
            raise StepFailed(str(e), "check wsdl and version") from None
        try:
            if self.opts.method == "sql":
                payload = client.call("executeSQLQuery", sql=sql.page_after("", 1))
            else:
                payload = client.call("listUser", searchCriteria={"userid": "%"}, returnedTags={"userid": ""},
                                      skip=0, first=1)
            self.rows = page_extent(payload)[0]
        except AxlError as e:
            self.error = e
        finally:
            with contextlib.suppress(Exception):
                client.close()
        err = self.error
        if err is not None and err.kind == "auth":
            raise StepFailed(str(err), "wrong username or password, or the application user lacks the Standard AXL "
                                     "API Access role (read-only: Standard AXL Read Only API Access)")
        if err is not None and err.kind == "session":
            raise StepFailed(str(err), "is url the AXL service (https://HOST:8443/axl/)?")
        if err is not None and err.kind in ("tls", "unreachable", "network", "timeout"):
            raise StepFailed(str(err), "the connection failed after the first steps passed: try again")
        return f"user {self.opts.username!r} accepted"

    def version(self) -> str:
        e = self.error
        if e is not None and e.fault is not None and "version" in e.fault.message.lower():
            raise StepFailed(str(e), f"AXL version {self.opts.version} is not served by this CUCM: set version to "
                                     "one it serves (CUCM serves its own and the two majors before)")
        return f"AXL {self.opts.version} served"

    def read(self) -> str:
        e = self.error
        if e is None:
            op = "executeSQLQuery" if self.opts.method == "sql" else "listUser"
            return f"{op}: {self.rows} user{'s' if self.rows != 1 else ''} read"
        if e.temporary:
            raise StepFailed(str(e), "CUCM is busy or restarting: try again in a few minutes")
        raise StepFailed(str(e), "the application user may lack read access to the users (AXL read roles)")


def check(opts: CucmOptions) -> list[Step]:
    problem = opts.missing_files()
    if problem:
        return [Step("configuration", False, problem, "check ca_file and wsdl")]
    p = _Probe(opts)
    steps = [("reach", p.reach)]
    if urlsplit(opts.url).scheme == "https":
        steps.append(("tls", p.tls))
    return run_steps([*steps, ("authenticate", p.authenticate), ("version", p.version), ("read", p.read)])
