"""The read token (``[api] read_token_*``): a login form's session cookie, and the check of every read.

The cookie holds an HMAC of a fixed text keyed with the token: it cannot be made without the token, it changes
when the token does (every session ends), and holding it reveals nothing of the token. Both it and a bearer token
are compared in constant time. With no read token configured, everything here lets every request through.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

COOKIE = "syncd_session"
_SESSION_TEXT = b"syncd dashboard session 1"


def session_value(token: str) -> str:
    return hmac.new(token.encode(), _SESSION_TEXT, hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def has_session(request: Request, token: str) -> bool:
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(token).encode())


def bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else None


def may_read(request: Request, read_token: str | None, api_token: str | None) -> bool:
    """Whether a read may go ahead: no read token is set, or the request holds the session cookie, or the read
    token (or the API's mutating token, which may do more) as its bearer token."""
    if read_token is None:
        return True
    if has_session(request, read_token):
        return True
    given = bearer(request)
    if given is None:
        return False
    return token_matches(given, read_token) or (api_token is not None and token_matches(given, api_token))


def safe_next(target: str | None) -> str:
    """Where a login returns to: a dashboard path only (never another site: ``//host`` or ``/\\host``)."""
    if target and target.startswith("/ui/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return "/ui/"
