"""Settings of one Active Directory source and the checks the configuration loader runs on its DNs and filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ldap3.core.exceptions import LDAPInvalidDnError, LDAPInvalidFilterError
from ldap3.operation.search import parse_filter
from ldap3.utils.dn import parse_dn

MODES = ("dirsync", "usn")
MAX_PAGE_SIZE = 1000   # AD's MaxPageSize; larger pages are silently cut to it


@dataclass(frozen=True, slots=True)
class AdOptions:
    """One ``[[sources.ad]]`` table, with the password already resolved by the caller."""

    name: str
    urls: list[str]
    bind_dn: str
    password: str = field(repr=False)
    ca_file: str | None = None
    tls_name: str | None = None          # expected certificate name when it differs from the URL host
    insecure: bool = False               # allows plain ldap:// and turns certificate validation off
    base_dns: list[str] = field(default_factory=list)   # empty: the domain (defaultNamingContext)
    filter: str = ""                     # extra filter ANDed with the person filter
    host_group: str = ""                 # group DN; empty: no host-group eligibility
    mode: str = "dirsync"                # "dirsync" | "usn"
    page_size: int = 500
    connect_timeout: float = 10.0
    receive_timeout: float = 60.0
    start_tls: bool = False              # ldap:// URLs upgrade with StartTLS before the bind

    def problems(self) -> list[str]:
        """Every configuration error, one line each (empty when the options are usable)."""
        out = []
        if not self.urls:
            out.append("urls: at least one domain controller URL is required")
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
                out.append(f"urls: {url!r} is not an ldap:// or ldaps:// URL")
            elif parts.scheme == "ldap" and not self.start_tls and not self.insecure:
                out.append(f"urls: {url!r} is plain LDAP; use ldaps://, start_tls = true, or insecure = true")
        err = validate_bind_name(self.bind_dn)
        if err:
            out.append(f"bind_dn: {err}")
        for base in self.base_dns:
            err = validate_dn(base)
            if err:
                out.append(f"base_dns: {err}")
        if self.host_group:
            err = validate_dn(self.host_group)
            if err:
                out.append(f"host_group: {err}")
        if self.filter:
            err = validate_filter(self.filter)
            if err:
                out.append(f"filter: {err}")
        if self.mode not in MODES:
            out.append(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            out.append(f"page_size: {self.page_size} is outside 1..{MAX_PAGE_SIZE}")
        if self.connect_timeout <= 0 or self.receive_timeout <= 0:
            out.append("connect_timeout and receive_timeout must be positive")
        return out


def validate_dn(s: str) -> str | None:
    """None when ``s`` is a well-formed distinguished name, else a one-line reason."""
    if not s or not s.strip():
        return "empty DN"
    if any(c in s for c in "\x00\r\n"):
        return "DN contains a control character"
    try:
        parts = parse_dn(s, escape=False, strip=True)
    except (LDAPInvalidDnError, ValueError, IndexError) as exc:
        return f"invalid DN {s!r}: {exc}"
    if not parts:
        return f"invalid DN {s!r}"
    for attr, value, _sep in parts:
        if not attr or not value:
            return f"invalid DN {s!r}: empty attribute type or value"
    return None


_UPN = re.compile(r"[^@\s\\=,]+@[^@\s\\=,]+")
_DOWN_LEVEL = re.compile(r"[^\\\s=,]+\\[^\\\s=,]+")


def validate_bind_name(s: str) -> str | None:
    """A simple-bind name: a DN, or what AD also accepts, user@domain (UPN) or DOMAIN\\user (down-level)."""
    if _UPN.fullmatch(s) or _DOWN_LEVEL.fullmatch(s):
        return None
    return validate_dn(s)


def validate_filter(s: str) -> str | None:
    """None when ``s`` is a well-formed parenthesised LDAP filter (or empty), else a one-line reason."""
    if not s:
        return None
    text = s.strip()
    if any(c in s for c in "\x00\r\n"):
        return "filter contains a control character"
    if not (text.startswith("(") and text.endswith(")")):
        return f"filter {s!r} must be enclosed in parentheses"
    depth = 0
    for c in text:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            break
    if depth != 0:
        return f"filter {s!r} has unbalanced parentheses"
    try:
        parse_filter(text, None, auto_escape=False, auto_encode=True, validator=None, check_names=False)
    except (LDAPInvalidFilterError, ValueError, IndexError, TypeError) as exc:
        return f"invalid filter {s!r}: {exc}"
    return None
