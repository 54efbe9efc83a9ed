"""What the simulator answers: the AXL read operations (listUser, getUser, executeSQLQuery on ``enduser``,
listChange), CUCM's faults for bad requests, too-large responses and injected faults, and the JSON control actions.

Each answer is a :class:`Reply` for the HTTP side to send; nothing here knows about sockets.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from connectors.axl.xml import MalformedXmlError, local, parse_xml, soap_payload

from . import render
from .sqlquery import SqlError
from .sqlquery import parse as parse_sql
from .state import Exchange, FaultRule, SimState

AXL_NS_PREFIX = "http://www.cisco.com/AXL/API/"
_ACTION_RE = re.compile(r'^"?CUCM:DB ver=(\S+) (\w+)"?$')
_HTML = "text/html;charset=utf-8"
_LIST_USER_FIELDS = {"firstName": "firstname", "lastName": "lastname", "userid": "userid",
                     "department": "department"}


@dataclass
class Reply:
    """One HTTP answer to an AXL request; ``drop``: reset the connection instead of answering."""

    status: int
    body: bytes
    ctype: str = "text/xml; charset=utf-8"
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def control(sim: SimState, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """What ``POST /control/ACTION`` does; raises KeyError/ValueError/TypeError for bad input."""
    table: dict[str, Callable[..., Any]] = {
        "fault": sim.inject_fault, "clear-faults": sim.clear_faults, "status": sim.set_status,
        "mail": sim.set_mail, "name": sim.set_name, "add": sim.add_user, "remove": sim.remove_user,
        "reset-queue": sim.reset_queue,
    }
    if action == "state":
        return sim.state()
    if action not in table:
        raise KeyError(action)
    table[action](**args)
    return sim.state()


def answer(sim: SimState, soap_action: str | None, body: bytes) -> Reply:
    """Answer one AXL POST (after authentication)."""
    with sim.lock:
        sim.request_count += 1
        number = sim.request_count
        sim.in_flight += 1
        sim.max_in_flight = max(sim.max_in_flight, sim.in_flight)
    try:
        return _answer(sim, number, soap_action, body)
    finally:
        with sim.lock:
            sim.in_flight -= 1


def _answer(sim: SimState, number: int, soap_action: str | None, body: bytes) -> Reply:
    try:
        payload = soap_payload(parse_xml(body))
    except MalformedXmlError as e:
        return Reply(500, render.fault(-1, f"Invalid request: {e}", "", "soapenv:Client"))
    tag = payload.tag if isinstance(payload.tag, str) else ""
    ns, op = (tag[1:].split("}", 1) if tag.startswith("{") else ("", tag))
    version = ns[len(AXL_NS_PREFIX):] if ns.startswith(AXL_NS_PREFIX) else ""
    reply = _check_version(sim, soap_action, version, op)
    if reply is None:
        rule = sim.take_fault(number, op)
        if rule is not None and rule.kind == "slow":
            time.sleep(rule.delay)
            rule = None
        reply = _fault_reply(rule, version, op) if rule is not None else _dispatch(sim, op, version, payload)
    if sim.record:
        with sim.lock:
            sim.exchanges.append(Exchange(op, version, body, reply.status, reply.body))
    return reply


def _check_version(sim: SimState, soap_action: str | None, version: str, op: str) -> Reply | None:
    if not version:
        return Reply(500, render.fault(-1, "The request is not in an AXL namespace", op, "soapenv:Client"))
    if soap_action:
        m = _ACTION_RE.match(soap_action.strip())
        if not m or m.group(1) != version or m.group(2) != op:
            return Reply(500, render.fault(
                -1, f"The AXL version and operation in the SOAPAction header ({soap_action.strip()}) do not match "
                    f"the request (version {version}, {op})", op, "soapenv:Client"))
    if version not in sim.versions:
        return Reply(500, render.fault(-1, f"AXL schema version {version} is not supported", op, "soapenv:Client"))
    return None


def _fault_reply(rule: FaultRule, version: str, op: str) -> Reply:
    k = rule.kind
    if k == "503":
        return Reply(503, render.html_page(503, "Service Unavailable"), _HTML)
    if k == "html500":
        return Reply(500, render.html_page(500, "Internal Server Error"), _HTML)
    if k == "401":
        return Reply(401, render.html_page(401, "Unauthorized"), _HTML)
    if k == "404":
        return Reply(404, render.html_page(404, "Not Found"), _HTML)
    if k == "memory":
        return Reply(500, render.fault(-1, "Maximum AXL Memory Allocation Consumed. Please retry once requests "
                                           "in progress have completed", op))
    if k == "too_large":
        return Reply(500, render.fault(-1, "Query request too large. Total rows matched: 250000 rows. "
                                           "Suggestive Row Fetch: less than 10000 rows", op))
    if k == "fault":
        return Reply(500, render.fault(rule.code, rule.message, op))
    if k == "malformed":
        good = render.envelope(version, op, [b"<row><pkid>x</pkid></row>"])
        return Reply(200, good[: len(good) // 2])
    if k == "dtd":
        return Reply(200, render.entity_bomb(version))
    return Reply(200, b"", drop=True)      # drop


def _dispatch(sim: SimState, op: str, version: str, payload: etree._Element) -> Reply:
    try:
        match op:
            case "executeSQLQuery":
                return _sql(sim, version, payload)
            case "listUser":
                return _list_user(sim, version, payload)
            case "getUser":
                return _get_user(sim, version, payload)
            case "listChange":
                return _list_change(sim, version, payload)
    except SqlError as e:
        return Reply(500, render.fault(e.code, str(e), op))
    except (ValueError, TypeError) as e:
        return Reply(500, render.fault(-1, f"Invalid request: {e}", op, "soapenv:Client"))
    return Reply(500, render.fault(-1, f"No such operation '{op}'", op, "soapenv:Client"))


def _rendered(sim: SimState, kind: str, cols: tuple[str, ...]) -> list[bytes]:
    """Every user rendered for ``cols``, in pkid order; cached until the next mutation. Lock held."""
    key = (kind, cols)
    rows = sim.row_cache.get(key)
    if rows is None:
        fn = render.sql_row if kind == "sql" else render.luser
        rows = sim.row_cache[key] = [fn(u, cols) for u in sim.users]
    return rows


def _ok_or_too_large(sim: SimState, version: str, op: str, rows: list[bytes]) -> Reply:
    """The response with ``rows``, or CUCM's fault when it would pass the response limit."""
    total = sum(map(len, rows))
    if total <= sim.response_limit:
        return Reply(200, render.envelope(version, op, rows))
    fit = max(1, int(len(rows) * sim.response_limit / total))
    return Reply(500, render.fault(-1, f"Query request too large. Total rows matched: {len(rows)} rows. "
                                       f"Suggestive Row Fetch: less than {fit} rows", op))


def _sql(sim: SimState, version: str, payload: etree._Element) -> Reply:
    q = parse_sql(payload.findtext("sql") or "")
    with sim.lock:
        if q.pkids is not None:
            users = sorted((sim.by_pkid[p] for p in set(q.pkids) if p in sim.by_pkid), key=lambda u: u.pkid)
            rows = [render.sql_row(u, q.columns) for u in users]
        else:
            rendered = _rendered(sim, "sql", q.columns)
            lo = bisect.bisect_right(sim.pkids, q.after) if q.after else 0
            if q.status is not None:
                rows = [r for u, r in zip(sim.users[lo:], rendered[lo:], strict=True) if u.status == q.status]
                rows = rows[q.skip:][: q.first] if q.first is not None else rows[q.skip:]
            else:
                lo += q.skip
                rows = rendered[lo: lo + q.first] if q.first is not None else rendered[lo:]
    return _ok_or_too_large(sim, version, "executeSQLQuery", rows)


def _like(pattern: str) -> re.Pattern[str]:
    """An SQL LIKE pattern (``%``, ``_``) as a case-insensitive regular expression."""
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern) + r"\Z",
                      re.I | re.S)


def _tags(el: etree._Element | None, order: tuple[str, ...]) -> tuple[str, ...]:
    asked = [local(c.tag) for c in el if isinstance(c.tag, str)] if el is not None else []
    unknown = [t for t in asked if t not in order]
    if unknown:
        raise ValueError(f"returnedTags: unknown element {unknown[0]}")
    return tuple(t for t in order if t in asked) if asked else order   # empty returnedTags: every tag


def _list_user(sim: SimState, version: str, payload: etree._Element) -> Reply:
    sc = payload.find("searchCriteria")
    criteria = {local(c.tag): c.text or "" for c in sc if isinstance(c.tag, str)} if sc is not None else {}
    if not criteria:
        raise ValueError("At least one element under searchCriteria has to be mentioned")
    tags = _tags(payload.find("returnedTags"), render.LUSER_TAGS)
    skip = int(payload.findtext("skip") or 0)
    first_text = payload.findtext("first")
    first = int(first_text) if first_text else None
    with sim.lock:
        if all(v == "%" for v in criteria.values()):
            rows = _rendered(sim, "list", tags)
        else:
            pats = {k: _like(v) for k, v in criteria.items() if k in _LIST_USER_FIELDS}
            rows = [render.luser(u, tags) for u in sim.users
                    if all(p.match(str(render.user_field(u, _LIST_USER_FIELDS[k]) or "")) for k, p in pats.items())]
        if first is not None:   # skip counts only together with first
            rows = rows[skip: skip + first]
    return _ok_or_too_large(sim, version, "listUser", rows)


def _get_user(sim: SimState, version: str, payload: etree._Element) -> Reply:
    uuid, userid = payload.findtext("uuid"), payload.findtext("userid")
    tags = _tags(payload.find("returnedTags"), render.RUSER_TAGS)
    with sim.lock:
        u = sim.by_pkid.get(uuid.strip().strip("{}").lower()) if uuid else sim.by_userid.get(userid or "")
        if u is None:
            return Reply(500, render.fault(5007, "Item not valid: The specified User was not found", "getUser"))
        row = render.ruser(u, tags)
    return Reply(200, render.envelope(version, "getUser", [row]))


def _list_change(sim: SimState, version: str, payload: etree._Element) -> Reply:
    start_el = payload.find("startChangeId")
    with sim.lock:
        q = sim.queue
        info: dict[str, int | str] = {"firstChangeId": q.first_id, "lastChangeId": q.last_id,
                                       "nextStartChangeId": q.next_id, "queueId": q.queue_id}
        if start_el is None:        # the first call: the queue position only (as CUCM 14/15 answer)
            return Reply(200, render.change_response(version, info, None))
        if start_el.get("queueId") != q.queue_id:
            return Reply(500, render.fault(5007, "The queueId value does not match the server. The server "
                                                 "restarted and a full sync is needed", "listChange"))
        start = int((start_el.text or "0").strip())
        if q.evicted(start):
            if sim.evict_fault:
                return Reply(500, render.fault(-1, f"Change id {start} is no longer in the change queue "
                                                   f"(oldest is {q.first_id}); a full sync is needed",
                                               "listChange"))
            return Reply(200, render.change_response(version, info, None))
        batch = q.since(start, sim.change_page)
        info["nextStartChangeId"] = batch[-1].id + 1 if batch else max(start, q.next_id)
        changes = [render.change(c.id, c.action, c.uuid, c.do_get, c.tags) for c in batch]
    return Reply(200, render.change_response(version, info, changes))
