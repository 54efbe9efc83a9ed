"""`syncd check` for the ``[cwms]`` site: reach it, verify its certificate, authenticate as the site administrator
and read one account, with the trust, credentials and request the CWMS read of a run uses.

The one request is a ``LstsummaryUser`` page of ``maximumNum`` 1, not a ``GetUser`` of the administrator's own
webExId: listing the site's accounts is what `syncd cwms diff`, `cwms import` and every run's CWMS read do, and it
needs the site administrator's privilege (000001 "Access denied" otherwise), whereas any user may be able to read
their own account, so a GetUser of oneself would pass for credentials that cannot do the work.
"""

from __future__ import annotations

import contextlib
import ssl
from urllib.parse import urlsplit

from requests.utils import DEFAULT_CA_BUNDLE_PATH

from connectors.check import Step, StepFailed, certificate_hint, reach, run_steps

from .client import TRANSIENT_IDS, CwmsClient, CwmsError
from .options import CwmsOptions

SERVICE = "the CWMS site's web server"
ENDPOINT_HINT = "is url the site's XML API endpoint (https://SITE/WBXService/XMLService)?"


class _Probe:
    def __init__(self, opts: CwmsOptions) -> None:
        # One try per request: a test of the connection reports a busy site rather than waiting for it.
        self.opts = opts.model_copy(update={"retries": 0})
        parts = urlsplit(opts.url)
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.error: CwmsError | None = None
        self.accounts = 0

    def reach(self) -> str:
        reach(self.host, self.port, self.opts.timeout, SERVICE).close()
        return f"{self.host}:{self.port} accepts connections"

    def tls(self) -> str:
        if self.opts.insecure:
            return "certificate NOT verified (insecure = true)"
        ctx = ssl.create_default_context(cafile=self.opts.ca_file or DEFAULT_CA_BUNDLE_PATH)
        sock = reach(self.host, self.port, self.opts.timeout, SERVICE)
        try:
            with ctx.wrap_socket(sock, server_hostname=self.host) as tls:
                return f"certificate verified ({tls.version()})"
        except ssl.SSLCertVerificationError as e:
            problem = str(e.verify_message)
            hint = certificate_hint(problem, self.host)
            if "tls_name" in hint:      # [cwms] has no tls_name: the URL's host is the only name to change
                hint = f"the certificate is not issued to {self.host}: use the name it names in url"
            raise StepFailed(f"certificate refused: {problem}", hint) from None
        except (ssl.SSLError, OSError) as e:
            raise StepFailed(f"TLS handshake failed: {e}", "is this port TLS (https)?") from None
        finally:
            sock.close()

    def authenticate(self) -> str:
        """The one request (a page of one account); its answer also decides the read step. An answer of the XML
        API that is neither 030002 (kind "auth") nor a transient code means CWMS took the credentials."""
        client = CwmsClient(self.opts)
        try:
            # The first page only: the generator, left at its first account, asks for no more.
            self.accounts = 0 if next(client.list_accounts(page_size=1), None) is None else 1
        except CwmsError as e:
            self.error = e
        finally:
            with contextlib.suppress(Exception):
                client.close()
        err = self.error
        if err is None or (err.kind in ("failure", "incomplete") and err.exception_id not in TRANSIENT_IDS):
            return f"administrator {self.opts.username!r} accepted on site {self.opts.site_name!r}"
        if err.kind == "auth":
            raise StepFailed(str(err), "wrong credentials: check username (a site administrator's webExID), the "
                                       "password_* key and site_name")
        if err.kind == "failure":
            raise StepFailed(str(err), "CWMS is busy or throttling: try again in a few minutes")
        if err.kind in ("tls", "unreachable", "network", "timeout"):
            raise StepFailed(str(err), "the connection failed after the first steps passed: try again")
        # http, malformed, unsafe: what answered is not (only) the XML API, e.g. a wrong path or a proxy's page.
        raise StepFailed(str(err), ENDPOINT_HINT)

    def read(self) -> str:
        e = self.error
        if e is None:
            return (f"LstsummaryUser (maximumNum 1): {self.accounts} account{'s' if self.accounts != 1 else ''} "
                    "read")
        if e.exception_id == "000001":
            raise StepFailed(str(e), f"{self.opts.username!r} lacks the privilege to list the site's users: "
                                     "username must be a site administrator")
        if e.kind == "incomplete":
            raise StepFailed(str(e), "the site's answer did not add up: try again, and see the site's health")
        raise StepFailed(str(e), "see the reason CWMS gave")


def check(opts: CwmsOptions) -> list[Step]:
    problem = opts.missing_files()
    if problem:
        return [Step("configuration", False, problem, "check ca_file")]
    p = _Probe(opts)
    steps = [("reach", p.reach)]
    if urlsplit(opts.url).scheme == "https":
        steps.append(("tls", p.tls))
    return run_steps([*steps, ("authenticate", p.authenticate), ("read", p.read)])
