"""`syncd check` for an AD source: for each domain controller, reach it, secure the connection (ldaps or StartTLS),
bind, read the rootDSE, and find one person under the first base DN, with the trust and bind a sync uses."""

from __future__ import annotations

from urllib.parse import urlsplit

from ldap3 import BASE, SUBTREE, Connection
from ldap3.core import exceptions as lx

from connectors.ad.options import AdOptions
from connectors.ad.session import close_quietly, describe, new_connection
from connectors.base import SourceError
from connectors.check import Step, StepFailed, certificate_hint, reach, run_steps

PERSON = "(&(objectCategory=person)(objectClass=user))"


class _Probe:
    def __init__(self, opts: AdOptions, url: str) -> None:
        self.opts = opts
        self.url = url
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.ldaps = parts.scheme == "ldaps"
        self.port = parts.port or (636 if self.ldaps else 389)
        self.conn: Connection | None = None

    def reach(self) -> str:
        reach(self.host, self.port, self.opts.connect_timeout, "the domain controller's LDAP service").close()
        return f"{self.host}:{self.port} accepts connections"

    def tls(self) -> str:
        try:
            self.conn, ldaps = new_connection(self.opts, self.url)
            self.conn.open(read_server_info=False)
            if not ldaps and self.opts.start_tls:
                self.conn.start_tls(read_server_info=False)
        except Exception as e:
            err = describe(e)
            raise StepFailed(str(err), certificate_hint(str(err), self.host) if "TLS" in str(err) else
                             "check the URL and start_tls") from None
        if not self.ldaps and not self.opts.start_tls:
            return "plain LDAP, no TLS (insecure = true)"
        if self.opts.insecure:
            return "certificate NOT verified (insecure = true)"
        return "certificate verified (ldaps)" if self.ldaps else "certificate verified (StartTLS)"

    def authenticate(self) -> str:
        assert self.conn is not None
        try:
            self.conn.bind(read_server_info=False)
        except Exception as e:
            err = str(describe(e))
            if "does not exist" in err:
                hint = "bind_dn not found: check its spelling (or use user@domain)"
            elif "wrong password" in err:
                hint = "wrong password for bind_dn"
            elif "invalid credentials" in err:
                hint = "wrong password, or bind_dn not found (the server says the same for both)"
            else:
                hint = "check bind_dn and the account's state"
            raise StepFailed(err, hint) from None
        return f"bound as {self.opts.bind_dn}"

    def schema(self) -> str:
        assert self.conn is not None
        try:
            self.conn.search("", "(objectClass=*)", BASE, attributes=["defaultNamingContext"])
            attrs = self.conn.response[0]["raw_attributes"] if self.conn.response else {}
        except Exception as e:
            raise StepFailed(str(describe(e)), "the server did not answer a rootDSE read") from None
        nc = next((bytes(v[0]).decode() for k, v in attrs.items() if k.lower() == "defaultnamingcontext" and v), "")
        if not nc:
            raise StepFailed("the rootDSE has no defaultNamingContext", "is this an Active Directory domain "
                             "controller?")
        return f"domain {nc}"

    def read(self) -> str:
        assert self.conn is not None
        base = self.opts.base_dns[0]
        try:
            self.conn.search(base, f"(&{PERSON}{self.opts.filter})", SUBTREE, attributes=["objectGUID"],
                             size_limit=1)
        except lx.LDAPNoSuchObjectResult:
            raise StepFailed(f"base DN {base} not found", "check base_dns") from None
        except lx.LDAPSizeLimitExceededResult:
            pass                # more than the one asked for: the read works
        except (lx.LDAPException, SourceError, OSError) as e:
            raise StepFailed(str(describe(e)), "check base_dns, filter and the bind account's read rights") from None
        found = sum(1 for e in self.conn.response or [] if e.get("type") == "searchResEntry")
        return f"{found} person{'s' if found != 1 else ''} read under {base}"

    def close(self) -> None:
        close_quietly(self.conn)


def check(opts: AdOptions) -> list[Step]:
    """Every domain controller in ``urls``, each step's detail prefixed with the DC it is about."""
    out: list[Step] = []
    for url in opts.urls:
        p = _Probe(opts, url)
        try:
            steps = run_steps([("reach", p.reach), ("tls", p.tls), ("authenticate", p.authenticate),
                               ("schema", p.schema), ("read", p.read)])
        finally:
            p.close()
        out += [Step(s.name, s.ok, f"{url}: {s.detail}", s.hint) for s in steps]
    return out
