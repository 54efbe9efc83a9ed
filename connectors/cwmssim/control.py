"""The simulator's ``/control/`` endpoint: JSON over HTTP, for tests and for whoever runs ``syncd simulate cwms``,
to read the site and its audit of writes and to change accounts and faults behind the XML API's back.

Every request needs ``Authorization: Bearer <the simulator's admin password>`` (401 otherwise); a request with a
body needs ``Content-Type: application/json`` and a JSON object (415, 400). Answers are JSON; an error is
``{"error": sentence}`` with 400, 401, 404, 405 or 415.

    GET    /control/state                 site_name, users, activated, host_limit, requests, faults_pending, writes
    GET    /control/audit                 every write the XML API received (``SimState.audit``), oldest first
    GET    /control/accounts/WEBEXID      one account
    PUT    /control/accounts/WEBEXID      {"active", "email", "first_name", "last_name"} (each optional): change those
                                          fields, or create the account (201); POST does the same
    DELETE /control/accounts/WEBEXID      remove it (204)
    POST   /control/faults                {"kind", "count", "op", "delay", "exception_id", "reason", "after"}:
                                          inject (201)
    DELETE /control/faults                clear every pending fault

What ``/control/`` changes is the operator's doing, not a write CWMS received: it is not audited, and the host
limit does not apply to it (a test can set up a site over its limit).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import unquote

from .state import SimState

PREFIX = "/control/"
JSON = "application/json"
_ACCOUNT_FIELDS: dict[str, tuple[type, ...]] = {"active": (str,), "email": (str,), "first_name": (str,),
                                                "last_name": (str,)}
_FAULT_FIELDS: dict[str, tuple[type, ...]] = {"kind": (str,), "count": (int,), "op": (str, type(None)),
                                              "delay": (int, float), "exception_id": (str,), "reason": (str,),
                                              "after": (int,)}


@dataclass
class ControlReply:
    """One answer: ``payload`` is sent as JSON (nothing with 204)."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def authorized(sim: SimState, authorization: str | None) -> bool:
    """Whether the header is ``Bearer <sim.password>`` (compared in constant time)."""
    scheme, _, token = (authorization or "").partition(" ")
    ok = hmac.compare_digest(token.strip().encode(), sim.password.encode())
    return ok and scheme.lower() == "bearer"


def handle(sim: SimState, method: str, path: str, authorization: str | None, content_type: str | None,
           body: bytes) -> ControlReply:
    """Answer ``method path`` (``path`` under :data:`PREFIX`, without its query)."""
    if not authorized(sim, authorization):
        return ControlReply(401, {"error": "Authorization: Bearer <the simulator's password> required"},
                            {"WWW-Authenticate": 'Bearer realm="cwmssim control"'})
    try:
        return _route(sim, method, path[len(PREFIX):].split("/"), content_type, body)
    except _Refused as r:
        return ControlReply(r.status, {"error": r.message}, r.headers)


def _route(sim: SimState, method: str, parts: list[str], content_type: str | None, body: bytes) -> ControlReply:
    if parts == ["state"]:
        _allow(method, "GET")
        return ControlReply(200, sim.state())
    if parts == ["audit"]:
        _allow(method, "GET")
        return ControlReply(200, sim.audit())
    if parts == ["faults"]:
        _allow(method, "POST", "DELETE")
        if method == "DELETE":
            sim.clear_faults()
            return ControlReply(200, sim.state())
        args = _object(content_type, body, _FAULT_FIELDS)
        if "kind" not in args:
            raise _Refused(400, "a fault needs its kind")
        try:
            sim.inject_fault(args.pop("kind"), **args)
        except ValueError as e:
            raise _Refused(400, str(e)) from None
        return ControlReply(201, sim.state())
    if len(parts) == 2 and parts[0] == "accounts" and parts[1]:
        return _account(sim, method, unquote(parts[1]), content_type, body)
    raise _Refused(404, f"no such control resource: {PREFIX}{'/'.join(parts)}")


def _account(sim: SimState, method: str, webex_id: str, content_type: str | None, body: bytes) -> ControlReply:
    _allow(method, "GET", "PUT", "POST", "DELETE")
    if method in ("PUT", "POST"):
        try:
            created = sim.put_account(webex_id, **_object(content_type, body, _ACCOUNT_FIELDS))
        except ValueError as e:
            raise _Refused(400, str(e)) from None
        return ControlReply(201 if created else 200, asdict(sim.account(webex_id)))
    try:
        if method == "DELETE":
            sim.remove_account(webex_id)
            return ControlReply(204)
        return ControlReply(200, asdict(sim.account(webex_id)))
    except KeyError:
        raise _Refused(404, f"no account {webex_id!r}") from None


def _allow(method: str, *methods: str) -> None:
    if method not in methods:
        raise _Refused(405, f"{method} not allowed here", {"Allow": ", ".join(methods)})


def _object(content_type: str | None, body: bytes, fields: dict[str, tuple[type, ...]]) -> dict[str, Any]:
    """The body as a JSON object whose keys are among ``fields``, each of its type."""
    if (content_type or "").split(";", 1)[0].strip().lower() != JSON:
        raise _Refused(415, f"the body must be {JSON}")
    try:
        args = json.loads(body or b"{}")
    except ValueError as e:
        raise _Refused(400, f"the body is not JSON: {e}") from None
    if not isinstance(args, dict):
        raise _Refused(400, "the body must be a JSON object")
    unknown = sorted(set(args) - set(fields))
    if unknown:
        raise _Refused(400, f"unknown field(s) {', '.join(unknown)} (known: {', '.join(fields)})")
    for name, value in args.items():
        if isinstance(value, bool) or not isinstance(value, fields[name]):
            raise _Refused(400, f"{name}: {value!r} is not a {' or '.join(t.__name__ for t in fields[name])}")
    return args
