"""``[[sources.ad]]``: one Active Directory domain, read over LDAP from a pool of domain controllers. The one
schema of this source type: the configuration loader validates the table with it and
:class:`~connectors.ad.connector.AdConnector` takes it. Its DN and filter checks are the ones the connector
relies on, so a value the configuration accepts is never refused at run time."""

from __future__ import annotations

import re
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.options import (
    Bool,
    FieldIssues,
    Float,
    Int,
    Issue,
    OptPath,
    OptStr,
    SecretOptions,
    SourceName,
    field_issue,
)

MAX_PAGE_SIZE = 1000   # AD's MaxPageSize; larger pages are silently cut to it
MatchKey = Literal["mail", "userid"]


def _default_match() -> list[MatchKey]:
    return ["mail", "userid"]      # connectors.options.MATCH_ORDER, typed for the field


class AdOptions(SecretOptions):
    """One AD domain. The password, once resolved, shows as ``***`` in repr and logs."""

    name: SourceName = "ad"
    urls: list[str] = Field(min_length=1)
    bind_dn: str
    ca_file: OptPath = None
    tls_name: OptStr = None
    """Expected certificate name when it differs from the URL host."""
    base_dns: list[str] = Field(min_length=1)
    filter: str = ""
    """Extra filter ANDed with the person filter."""
    host_group: str = ""
    """Group DN; empty: no host-group eligibility."""
    mode: Literal["dirsync", "usn"] = "dirsync"
    page_size: Int = Field(default=500, ge=1, le=MAX_PAGE_SIZE)
    match: list[MatchKey] = Field(default_factory=_default_match, min_length=1)
    start_tls: Bool = False
    """ldap:// URLs upgrade with StartTLS before the bind."""
    insecure: Bool = False
    """Allows plain ldap:// and turns certificate validation off."""
    connect_timeout: Float = Field(default=10.0, gt=0)
    receive_timeout: Float = Field(default=60.0, gt=0)

    def match_order(self) -> tuple[str, ...]:
        return tuple(self.match)

    @field_validator("bind_dn")
    @classmethod
    def _bind_dn(cls, value: str) -> str:
        problem = validate_bind_name(value)
        if problem:
            raise ValueError(f"{problem} (or use user@domain)")
        return value

    @field_validator("base_dns")
    @classmethod
    def _base_dns(cls, value: list[str]) -> list[str]:
        issues: list[Issue] = [((i,), problem) for i, dn in enumerate(value) if (problem := validate_dn(dn))]
        if issues:
            raise FieldIssues(issues)
        return value

    @field_validator("host_group")
    @classmethod
    def _host_group(cls, value: str) -> str:
        problem = validate_dn(value) if value.strip() else None
        if problem:
            raise ValueError(f"{problem} (the group's distinguished name)")
        return value.strip()

    @field_validator("filter")
    @classmethod
    def _filter(cls, value: str) -> str:
        problem = validate_filter(value)
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("match")
    @classmethod
    def _match(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each of mail and userid may appear once")
        return value

    @field_validator("urls")
    @classmethod
    def _url_syntax(cls, value: list[str]) -> list[str]:
        issues: list[Issue] = []
        for i, url in enumerate(value):
            parts = urlsplit(url)
            try:
                parts.port  # noqa: B018 - raises on a bad port
            except ValueError:
                issues.append(((i,), f"invalid port in {url!r}"))
                continue
            if parts.scheme not in ("ldaps", "ldap") or not parts.hostname or parts.path not in ("", "/") \
                    or parts.query:
                issues.append(((i,), f"not an LDAP server URL: {url!r} (e.g. ldaps://dc1.example.com)"))
        if issues:
            raise FieldIssues(issues)
        return value

    @model_validator(mode="after")
    def _transport(self) -> Self:
        plain = [i for i, url in enumerate(self.urls) if urlsplit(url).scheme == "ldap"]
        if plain and not (self.start_tls or self.insecure):
            raise FieldIssues([(("urls", i), f"{self.urls[i]}: plain ldap:// needs start_tls = true (or insecure "
                                             "= true, which sends the password in clear text)") for i in plain])
        if self.start_tls and not plain:
            raise field_issue("start_tls", "start_tls applies to ldap:// URLs; these are ldaps://")
        return self


_CONTROL = re.compile(r"[\x00\r\n]")


def validate_dn(s: str) -> str | None:
    """None when ``s`` is a well-formed distinguished name, else a one-line reason."""
    from ldap3.core.exceptions import LDAPInvalidDnError
    from ldap3.utils.dn import parse_dn

    if not s or not s.strip():
        return "empty DN"
    if _CONTROL.search(s):
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


def validate_filter(value: str) -> str | None:
    """Why ``value`` is not a valid LDAP filter (RFC 4515 string form, parenthesised), or None; empty (or blank)
    means no extra filter."""
    from ldap3.core.exceptions import LDAPInvalidFilterError
    from ldap3.operation.search import parse_filter

    text = value.strip()
    if not text:
        return None
    if _CONTROL.search(value):
        return f"invalid LDAP filter {value!r}: contains a control character"
    if not text.startswith("("):
        return f"invalid LDAP filter {value!r}: must be enclosed in parentheses, e.g. (department=Sales)"
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        return f"invalid LDAP filter {value!r}: unbalanced parentheses (escape literal ones as \\28 and \\29)"
    if not text.endswith(")"):
        return f"invalid LDAP filter {value!r}: text after the closing parenthesis"
    if re.search(r"\(\s*[~<>:]?=", text):
        return f"invalid LDAP filter {value!r}: an item has no attribute name"
    try:
        parse_filter(text, None, auto_escape=False, auto_encode=False, validator=None, check_names=False)
    except (LDAPInvalidFilterError, ValueError, IndexError, TypeError) as e:
        return f"invalid LDAP filter {value!r}: {e}"
    return None
