"""Byte rendering of AXL responses, as CUCM shapes them (valid against Cisco's AXLSoap.xsd).

Rows are rendered once per column set and cached as bytes by the simulator, so a page is a slice and a join.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .population import LDAP_DIRECTORY, LDAP_DIRECTORY_PKID, SimUser

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"

# Schema order of the fields the simulator serves (a subset of LUser / RUser, real relative order).
LUSER_TAGS = ("firstName", "middleName", "lastName", "userid", "mailid", "department", "status", "directoryUri",
              "userIdentity")
RUSER_TAGS = ("firstName", "displayName", "middleName", "lastName", "userid", "mailid", "department", "status",
              "ldapDirectoryName")
SQL_COLUMNS = ("pkid", "userid", "mailid", "firstname", "lastname", "middlename", "status",
               "fkdirectorypluginconfig", "islocaluser", "directoryuri", "displayname")


def esc(text: str) -> str:
    """Markup escaped; nothing else is changed, so a control character XML 1.0 forbids goes out raw, as a broken
    CUCM sends it (a user given one is served so on purpose; such a response is not valid XML)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_attr(text: str) -> str:
    return esc(text).replace('"', "&quot;")


def _el(tag: str, value: str | int | None) -> str:
    return f"<{tag}/>" if value is None or value == "" else f"<{tag}>{esc(str(value))}</{tag}>"


def _display(u: SimUser) -> str | None:
    return " ".join(p for p in (u.firstname, u.lastname) if p) or None


def user_field(u: SimUser, tag: str) -> str | int | None:
    """The value of an AXL (camelCase) or SQL (lower-case) field of ``u``."""
    match tag:
        case "firstName" | "firstname":
            return u.firstname
        case "lastName" | "lastname":
            return u.lastname
        case "userid":
            return u.userid
        case "mailid":
            return u.mailid
        case "status":
            return u.status
        case "pkid":
            return u.pkid
        case "fkdirectorypluginconfig":
            return LDAP_DIRECTORY_PKID if u.ldap else None
        case "islocaluser":
            return "f" if u.ldap else "t"
        case "directoryUri" | "directoryuri" | "userIdentity":
            return u.mailid
        case "displayName" | "displayname":
            return _display(u)
        case _:
            return None


def sql_row(u: SimUser, columns: Sequence[str]) -> bytes:
    return ("<row>" + "".join(_el(c, user_field(u, c)) for c in columns) + "</row>").encode()


def luser(u: SimUser, tags: Sequence[str]) -> bytes:
    return (f'<user uuid="{u.uuid}">' + "".join(_el(t, user_field(u, t)) for t in tags) + "</user>").encode()


def ruser(u: SimUser, tags: Sequence[str]) -> bytes:
    parts = []
    for t in tags:
        if t == "ldapDirectoryName":
            parts.append(f'<ldapDirectoryName uuid="{{{LDAP_DIRECTORY_PKID.upper()}}}">{LDAP_DIRECTORY}'
                         "</ldapDirectoryName>" if u.ldap else "<ldapDirectoryName/>")
        else:
            parts.append(_el(t, user_field(u, t)))
    return (f'<user uuid="{u.uuid}">' + "".join(parts) + "</user>").encode()


def envelope(version: str, op: str, inner: Iterable[bytes]) -> bytes:
    """``<opResponse><return>inner</return></opResponse>`` in a SOAP envelope."""
    head = (f"<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\"><soapenv:Body>"
            f'<ns:{op}Response xmlns:ns="http://www.cisco.com/AXL/API/{version}"><return>').encode()
    tail = f"</return></ns:{op}Response></soapenv:Body></soapenv:Envelope>".encode()
    return b"".join((head, *inner, tail))


def change_response(version: str, queue: dict[str, int | str], changes: Iterable[bytes] | None) -> bytes:
    qi = "".join(_el(k, queue[k]) for k in ("firstChangeId", "lastChangeId", "nextStartChangeId", "queueId"))
    head = (f"<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\"><soapenv:Body>"
            f'<ns:listChangeResponse xmlns:ns="http://www.cisco.com/AXL/API/{version}"><queueInfo>{qi}</queueInfo>'
            "<changes>").encode()
    tail = b"</changes></ns:listChangeResponse></soapenv:Body></soapenv:Envelope>"
    return b"".join((head, *(changes or ()), tail))


def change(cid: int, action: str, uuid: str, do_get: bool, tags: dict[str, str | None]) -> bytes:
    ct = "".join(f'<changedTag name="{esc_attr(k)}">{esc(v or "")}</changedTag>' for k, v in tags.items())
    return (f'<change type="User" uuid="{uuid}"><id>{cid}</id><action>{action}</action>'
            f"<doGet>{'true' if do_get else 'false'}</doGet><changedTags>{ct}</changedTags></change>").encode()


def fault(code: int, message: str, request: str, faultcode: str = "soapenv:Server") -> bytes:
    """A SOAP Fault as CUCM sends it: an unqualified ``axlError`` in ``detail`` (HTTP 500)."""
    return (f"<?xml version='1.0' encoding='UTF-8'?><soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\"><soapenv:Body>"
            f"<soapenv:Fault><faultcode>{faultcode}</faultcode><faultstring>{esc(message)}</faultstring><detail>"
            f"<axlError><axlcode>{code}</axlcode><axlmessage>{esc(message)}</axlmessage>"
            f"<request>{esc(request)}</request></axlError></detail></soapenv:Fault>"
            "</soapenv:Body></soapenv:Envelope>").encode()


def html_page(status: int, reason: str) -> bytes:
    """A Tomcat-style HTML error page."""
    return (f"<!doctype html><html lang=\"en\"><head><title>HTTP Status {status} – {reason}</title></head>"
            f"<body><h1>HTTP Status {status} – {reason}</h1><hr class=\"line\" /><h3>Apache Tomcat</h3>"
            "</body></html>").encode()


def entity_bomb(version: str) -> bytes:
    """A response with a DTD and nested entity expansion ("billion laughs"); a safe client refuses it."""
    ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    return (f"<?xml version='1.0' encoding='UTF-8'?><!DOCTYPE soapenv:Envelope [{ents}]>"
            f"<soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\"><soapenv:Body>"
            f'<ns:executeSQLQueryResponse xmlns:ns="http://www.cisco.com/AXL/API/{version}"><return><row>'
            "<pkid>&l9;</pkid></row></return></ns:executeSQLQueryResponse></soapenv:Body></soapenv:Envelope>").encode()
