"""Connecting and binding to one domain controller, and turning ldap3's failures into one-line reasons.

TLS is verified (``CERT_REQUIRED``) against ``ca_file`` or the system store; ``tls_name`` is accepted as the
certificate name besides the URL's host and is sent as SNI. Plain ``ldap://`` without StartTLS is used only with
``insecure = true``, which also turns certificate validation off. The password never appears in a message.
"""

from __future__ import annotations

import contextlib
import math
import re
import ssl
from urllib.parse import urlsplit

from ldap3 import NONE, SIMPLE, SYNC, Connection, Server, Tls
from ldap3.core import exceptions as lx

from connectors.ad.options import AdOptions
from connectors.base import SourceError


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# What AD's "data" code in an invalidCredentials bind answer means (Samba sends none).
_BIND_DATA = {"525": "the bind DN does not exist", "52e": "wrong password", "530": "logon not allowed now",
              "531": "logon not allowed from this host", "532": "password expired", "533": "account disabled",
              "701": "account expired", "773": "password must be changed", "775": "account locked"}

# ldap3's words for connection failures that waiting does not mend, and ours.
_UNREACHABLE = (("connection refused", "connection refused"), ("invalid server address", "the name does not resolve"),
                ("name or service not known", "the name does not resolve"), ("no route to host", "no route to host"),
                ("network is unreachable", "network unreachable"))


def unreachable(text: str) -> str | None:
    """Why a connection could not be made, in words, when retrying cannot help; None otherwise."""
    low = text.lower()
    return next((words for found, words in _UNREACHABLE if found in low), None)


def describe(exc: BaseException) -> SourceError:
    """Classify an ldap3/socket failure: dropped connections and timeouts are temporary; a refused connection, a
    name that does not resolve, refused TLS, refused binds and protocol errors are permanent."""
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, lx.LDAPCertificateError):
        # ldap3's message is the whole certificate, then "doesn't match any name in ['host', 'tls_name']"
        names = re.search(r"doesn't match any name in \[(.*)\]", str(exc))
        expected = " (" + names.group(1).replace("'", "") + ")" if names else ""
        return SourceError(f"TLS refused: the certificate does not match the expected name{expected}",
                           temporary=False)
    text = one_line(str(exc))
    if isinstance(exc, lx.LDAPSocketOpenError | lx.LDAPStartTLSError) and (
        "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower() or "ssl" in text.lower()
    ):
        return SourceError(f"TLS refused: {text}", temporary=False)
    if isinstance(exc, lx.LDAPInvalidCredentialsResult):
        why = _BIND_DATA.get(m.group(1).lower()) if (m := re.search(r"\bdata ([0-9a-f]{3})\b", text)) else None
        return SourceError(f"bind refused: invalid credentials{f' ({why})' if why else ''}", temporary=False)
    if isinstance(exc, lx.LDAPStrongerAuthRequiredResult):
        return SourceError("bind refused: the server requires TLS (strongerAuthRequired)", temporary=False)
    if isinstance(exc, lx.LDAPBindError):
        return SourceError(f"bind refused: {text}", temporary=False)
    if isinstance(exc, lx.LDAPInsufficientAccessRightsResult):
        return SourceError(f"access denied: {text}", temporary=False)
    if isinstance(exc, lx.LDAPBusyResult | lx.LDAPUnavailableResult | lx.LDAPTimeLimitExceededResult
                  | lx.LDAPAdminLimitExceededResult | lx.LDAPSizeLimitExceededResult):
        return SourceError(f"server busy or limit hit: {text}", temporary=True)
    if isinstance(exc, lx.LDAPSocketOpenError | OSError) and (cause := unreachable(text)):
        return SourceError(f"connection failed: {cause}", temporary=False)
    if isinstance(exc, lx.LDAPCommunicationError | lx.LDAPSocketOpenError | lx.LDAPSessionTerminatedByServerError
                  | lx.LDAPSocketReceiveError | lx.LDAPSocketSendError | lx.LDAPResponseTimeoutError
                  | OSError | TimeoutError):
        return SourceError(f"connection failed: {text or type(exc).__name__}", temporary=True)
    if isinstance(exc, lx.LDAPOperationResult):
        return SourceError(f"LDAP error: {text}", temporary=False)
    return SourceError(f"{type(exc).__name__}: {text}", temporary=False)


def tls_for(opts: AdOptions) -> Tls:
    if opts.insecure:
        return Tls(validate=ssl.CERT_NONE)
    return Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=opts.ca_file or None,
               valid_names=[opts.tls_name] if opts.tls_name else None, sni=opts.tls_name or None)


def new_connection(opts: AdOptions, url: str) -> tuple[Connection, bool]:
    """An unopened connection to the DC at ``url``, and whether it is ldaps. Raises :class:`SourceError` for a URL
    that cannot be used."""
    parts = urlsplit(url)
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise SourceError(f"not an LDAP URL: {url}")
    ldaps = parts.scheme == "ldaps"
    if not ldaps and not opts.start_tls and not opts.insecure:
        raise SourceError(f"refusing plain LDAP to {parts.hostname}: use ldaps://, start_tls = true or insecure = true")
    port = parts.port or (636 if ldaps else 389)
    server = Server(parts.hostname, port=port, use_ssl=ldaps, tls=tls_for(opts), get_info=NONE,
                    connect_timeout=opts.connect_timeout)
    # ldap3 packs the receive timeout into a struct of integers: a float raises.
    conn = Connection(server, user=opts.bind_dn, password=opts.secret(), authentication=SIMPLE,
                      client_strategy=SYNC, auto_bind=False, raise_exceptions=True, auto_referrals=False,
                      receive_timeout=max(1, math.ceil(opts.receive_timeout)), return_empty_attributes=False,
                      read_only=True, check_names=False)
    return conn, ldaps


def connect(opts: AdOptions, url: str) -> Connection:
    """Open, secure and bind one connection to the DC at ``url``. Raises :class:`SourceError`."""
    conn, ldaps = new_connection(opts, url)
    try:
        conn.open(read_server_info=False)
        if not ldaps and opts.start_tls:
            conn.start_tls(read_server_info=False)
        conn.bind(read_server_info=False)
    except Exception as exc:
        close_quietly(conn)
        raise describe(exc) from None
    return conn


def close_quietly(conn: Connection | None) -> None:
    if conn is None:
        return
    with contextlib.suppress(Exception):   # the connection may already be gone; nothing to report
        conn.unbind()
