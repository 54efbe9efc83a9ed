"""What the simulated CWMS answers: GetUser, LstsummaryUser and SetUser, the FAILUREs a strict XML API gives for
bad requests, and injected faults. Each answer is a :class:`Reply`; nothing here knows about sockets.

Every write request (SetUser; DelUser, which the simulator refuses as an unknown request type because syncd must
never send it) that parses far enough to name its operation is audited (:meth:`SimState.record_write`), one entry
per webExId, whatever its answer: a write refused (bad credentials, the schema, an unknown user, the host limit)
or answered by an injected fault (503, dropped connection, ...) is recorded as a FAILURE that changed nothing.
Injected faults are taken before the account is touched, so a faulted write is never applied.

SetUser ``active=ACTIVATED`` on an account that is not ACTIVATED, when ``host_limit`` accounts are ACTIVATED
already, answers FAILURE 030048 "exceededSiteHostLimit" (reference section 4: the token is known, where it appears
and its exceptionID are not; 030048 is the simulator's choice, unverified).

Every XML API answer is HTTP 200 ``text/xml``, FAILURE included (reference section 1). Where the reference has no
exceptionID for a refusal (a DTD, a malformed document, an unknown request type, a request the schema refuses,
``maximumNum`` above 500), the simulator answers 000000, the "could not handle the request" code: unverified
for CWMS, and strict on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from connectors.axl.xml import MalformedXmlError, local, parse_xml
from connectors.cwms.xmlapi import BINDING, COM, SERV, USE, XSI, XSI_TYPE

from .schema import RequestSchema
from .state import ACTIVE_VALUES, SimAccount, SimState

XML = "text/xml;charset=UTF-8"
HTML = "text/html;charset=UTF-8"
WRITES = ("SetUser", "DelUser")
HOST_LIMIT = ("030048", "exceededSiteHostLimit")      # (exceptionID, reason); the exceptionID is unverified
MAX_PAGE = 500
DEFAULT_PAGE = 50
_ORDER_KEYS: dict[str, Callable[[SimAccount], object]] = {
    "UID": lambda a: a.user_id, "WEBEXID": lambda a: a.webex_id.lower(), "FIRSTNAME": lambda a: a.first_name,
    "LASTNAME": lambda a: a.last_name, "EMAIL": lambda a: a.email.lower(), "ACTIVE": lambda a: a.active,
}


@dataclass
class Reply:
    """One HTTP answer; ``drop``: reset the connection instead of answering. ``exception_id``/``reason``: what a
    FAILURE says; ``fault``: the kind of the injected fault that gave this answer."""

    status: int
    body: bytes
    ctype: str = XML
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    exception_id: str | None = None
    reason: str | None = None
    fault: str | None = None


class Failure(Exception):
    """A request CWMS refuses: answered as ``FAILURE`` with ``exception_id`` and ``reason``."""

    def __init__(self, exception_id: str, reason: str) -> None:
        super().__init__(reason)
        self.exception_id = exception_id
        self.reason = reason


# -- rendering --------------------------------------------------------------------------------------------

def _message(result: str, *, reason: str | None = None, exception_id: str | None = None,
             content_type: str | None = None) -> tuple[etree._Element, etree._Element]:
    """The response envelope as real ones are (reference section 3); returns (document, bodyContent)."""
    root = etree.Element(f"{{{SERV}}}message", nsmap={"serv": SERV, "com": COM, "use": USE})
    response = etree.SubElement(etree.SubElement(root, f"{{{SERV}}}header"), f"{{{SERV}}}response")
    etree.SubElement(response, f"{{{SERV}}}result").text = result
    if reason is not None:
        etree.SubElement(response, f"{{{SERV}}}reason").text = reason
    etree.SubElement(response, f"{{{SERV}}}gsbStatus").text = "PRIMARY"
    if exception_id is not None:
        etree.SubElement(response, f"{{{SERV}}}exceptionID").text = exception_id
    body = etree.SubElement(root, f"{{{SERV}}}body")
    if content_type is None:
        return root, etree.SubElement(body, f"{{{SERV}}}bodyContent")
    content = etree.SubElement(body, f"{{{SERV}}}bodyContent", nsmap={"xsi": XSI})
    content.set(XSI_TYPE, content_type)
    return root, content


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def failure(exception_id: str, reason: str) -> Reply:
    return Reply(200, _bytes(_message("FAILURE", reason=reason, exception_id=exception_id)[0]),
                 exception_id=exception_id, reason=reason)


def _fields(parent: etree._Element, pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        etree.SubElement(parent, f"{{{USE}}}{name}").text = value


def html_page(status: int, reason: str) -> bytes:
    return (f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1>"
            "<p>The server is temporarily unable to service your request.</p></body></html>").encode()


def entity_bomb() -> bytes:
    """A response with a DTD and nested entities ("billion laughs"); a safe client refuses it."""
    ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 9))
    return (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE serv:message [{ents}]>'
            f'<serv:message xmlns:serv="{SERV}"><serv:header><serv:response><serv:result>SUCCESS</serv:result>'
            "<serv:reason>&l8;</serv:reason></serv:response></serv:header><serv:body><serv:bodyContent/>"
            "</serv:body></serv:message>").encode()


# -- requests ---------------------------------------------------------------------------------------------

def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    """``parent``'s child by local name, in any namespace (clients qualify some, e.g. ``serv:startFrom``)."""
    if parent is None:
        return None
    return next((c for c in parent if isinstance(c.tag, str) and local(c.tag) == name), None)


def _text(parent: etree._Element | None, name: str) -> str | None:
    el = _child(parent, name)
    return el.text.strip() if el is not None and el.text is not None else None


def _request(body: bytes) -> tuple[str | None, etree._Element, etree._Element]:
    """(operation or None, securityContext, bodyContent) of a request document; :class:`Failure` when it is not
    one."""
    try:
        root = parse_xml(body)
    except MalformedXmlError as e:
        raise Failure("000000", f"Fail to forward request: {e}") from None
    if root.tag != f"{{{SERV}}}message":
        raise Failure("000000", "Fail to forward request:null")
    header, msg_body = _child(root, "header"), _child(root, "body")
    security = _child(header, "securityContext")
    content = _child(msg_body, "bodyContent")
    if security is None or content is None:
        raise Failure("000000", "Fail to forward request:null")
    kind = content.get(XSI_TYPE)        # None too when xmlns:xsi is missing (the prefix is then unbound)
    if kind is None:
        raise Failure("000000", "Fail to forward request:null")
    op = kind[len(BINDING):] if kind.startswith(BINDING) else None
    return op, security, content


def answer(sim: SimState, schema: RequestSchema | None, body: bytes) -> Reply:
    """Answer one POST to the XML service."""
    with sim.lock:
        sim.request_count += 1
        sim.requests.append(body)
    try:
        op, security, content = _request(body)
    except Failure as f:
        return _faulted(sim, None) or failure(f.exception_id, f.reason)
    reply = _faulted(sim, op)
    if reply is not None:
        return _unapplied(sim, op, content, reply)
    if not sim.credentials_ok(_text(security, "webExID"), _text(security, "password"), _text(security, "siteName")):
        return _unapplied(sim, op, content, failure("030002", "Incorrect user or password"))
    handler = _OPERATIONS.get(op or "")
    if handler is None:
        return _unapplied(sim, op, content, failure("000000", f"Unknown request type {content.get(XSI_TYPE)!r}"))
    with sim.lock:
        sim.ops.append(op or "")
    if schema is not None:
        problem = schema.problem(op or "", content)
        if problem is not None:
            return _unapplied(sim, op, content, failure("000000", f"Invalid request: {problem}"))
    try:
        return handler(sim, content)
    except Failure as f:
        return failure(f.exception_id, f.reason)


def _unapplied(sim: SimState, op: str | None, content: etree._Element, reply: Reply) -> Reply:
    """``reply``, a refusal or a fault, audited first when it answers a write (which therefore changed nothing)."""
    if op in WRITES:
        ids = [(el.text or "").strip() for el in content if isinstance(el.tag, str) and local(el.tag) == "webExId"]
        for webex_id in ids or [None]:
            active = sim.active_of(webex_id)
            sim.record_write(op or "", webex_id, active, active, "FAILURE", exception_id=reply.exception_id,
                             reason=reply.reason, fault=reply.fault)
    return reply


def _faulted(sim: SimState, op: str | None) -> Reply | None:
    """The injected answer due for a request of ``op``, or None (no fault, or one that only delays the answer)."""
    fault = sim.take_fault(op)
    if fault is None:
        return None
    if fault.kind == "slow":
        time.sleep(fault.delay)
        return None
    reply = _fault_reply(fault.kind, fault.exception_id, fault.reason)
    reply.fault = fault.kind
    return reply


def _fault_reply(kind: str, exception_id: str, reason: str) -> Reply:
    if kind == "503":
        return Reply(503, html_page(503, "Service Unavailable"), HTML, headers={"Retry-After": "1"})
    if kind == "html":      # a proxy's or load balancer's page, with 200
        return Reply(200, html_page(200, "Maintenance"), HTML)
    if kind == "drop":
        return Reply(0, b"", drop=True)
    if kind == "dtd":
        return Reply(200, entity_bomb())
    if kind == "malformed":
        return Reply(200, b'<?xml version="1.0" encoding="UTF-8"?><serv:message xmlns:serv="' + SERV.encode()
                     + b'"><serv:header><serv:response><serv:result>SUCC')
    return failure(exception_id, reason)


def _user_not_found() -> Failure:
    return Failure("030001", "Corresponding User not found")


def get_user(sim: SimState, content: etree._Element) -> Reply:
    webex_id = _text(content, "webExId")
    with sim.lock:
        a = sim.accounts.get(webex_id or "")
        if a is None:
            raise _user_not_found()
        root, out = _message("SUCCESS", content_type="use:getUserResponse")
        _fields(out, [("firstName", a.first_name), ("lastName", a.last_name), ("webExId", a.webex_id),
                      ("email", a.email), ("active", a.active), ("registrationDate", a.registration_date),
                      ("userId", str(a.user_id))])
    return Reply(200, _bytes(root))


def _integer(parent: etree._Element | None, name: str, default: int) -> int:
    text = _text(parent, name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise Failure("000000", f"Invalid request: {name} {text!r} is not an integer") from None


def lstsummary_user(sim: SimState, content: etree._Element) -> Reply:
    control = _child(content, "listControl")
    start = _integer(control, "startFrom", 1)
    maximum = _integer(control, "maximumNum", DEFAULT_PAGE)
    if not 1 <= maximum <= MAX_PAGE:
        raise Failure("000000", f"Invalid request: maximumNum must be 1..{MAX_PAGE}")
    any_of = (_text(control, "listMethod") or "AND") == "OR"
    filters: dict[str, str] = {}
    for name in ("firstName", "lastName", "email", "active", "webExId"):
        value = _text(content, name)
        if value is not None:
            filters[name] = value
    order = _child(content, "order")
    order_by = _text(order, "orderBy") or "UID"
    if order_by not in _ORDER_KEYS:
        order_by = "UID"
    key = _ORDER_KEYS[order_by]
    descending = _text(order, "orderAD") == "DESC"

    def matches(a: SimAccount) -> bool:
        values = {"firstName": a.first_name, "lastName": a.last_name, "email": a.email, "active": a.active,
                  "webExId": a.webex_id}
        hits = [values[k].lower() == v.lower() for k, v in filters.items()]
        return (any(hits) if any_of else all(hits)) if hits else True

    with sim.lock:
        everyone = sim.ordered(order_by, key, descending)
        found = [a for a in everyone if matches(a)] if filters else everyone
        page = found[max(start, 1) - 1: max(start, 1) - 1 + maximum]
        if not page:
            raise Failure("000015", "Sorry, no record found")
        users = "".join(_user_xml(a) for a in page)
    root, out = _message("SUCCESS", content_type="use:lstsummaryUserResponse")
    out.append(etree.Comment(_USERS))
    matching = etree.SubElement(out, f"{{{USE}}}matchingRecords")
    for name, value in (("total", len(found)), ("returned", len(page)), ("startFrom", start)):
        etree.SubElement(matching, f"{{{SERV}}}{name}").text = str(value)
    # The users are written as text into the envelope lxml wrote: a page of 500 built as elements costs the
    # simulator more than syncd's whole parse of it, and the benchmarks measure syncd.
    return Reply(200, _bytes(root).replace(f"<!--{_USERS}-->".encode(), users.encode(), 1))


_USERS = "users"


def _user_xml(a: SimAccount) -> str:
    """One ``use:user`` of a list, as lxml would write it (the ``use`` prefix is declared on the envelope)."""
    fields = (("webExId", a.webex_id), ("firstName", a.first_name), ("lastName", a.last_name), ("email", a.email),
              ("registrationDate", a.registration_date), ("active", a.active))
    return "<use:user>" + "".join(f"<use:{n}>{escape(v)}</use:{n}>" if v else f"<use:{n}/>" for n, v in fields) \
        + "</use:user>"


def set_user(sim: SimState, content: etree._Element) -> Reply:
    """Only ``active`` is written (the other fields a SetUser may carry are accepted and ignored); audited."""
    webex_id = _text(content, "webExId")
    active = _text(content, "active")
    with sim.lock:                  # the check, the write and its audit entry as one step
        before = sim.active_of(webex_id)
        try:
            if active is not None and active not in ACTIVE_VALUES:
                raise Failure("000000", f"Invalid request: active {active!r}")
            if webex_id is None or before is None:
                raise _user_not_found()
            if active is not None:
                if sim.over_host_limit(webex_id, active):
                    raise Failure(*HOST_LIMIT)
                sim.set_active(webex_id, active)
        except Failure as f:
            sim.record_write("SetUser", webex_id, before, before, "FAILURE", exception_id=f.exception_id,
                             reason=f.reason)
            raise
        sim.record_write("SetUser", webex_id, before, sim.active_of(webex_id), "SUCCESS")
    return Reply(200, _bytes(_message("SUCCESS", content_type="use:setUserResponse")[0]))


_OPERATIONS: dict[str, Callable[[SimState, etree._Element], Reply]] = {
    "GetUser": get_user, "LstsummaryUser": lstsummary_user, "SetUser": set_user,
}
