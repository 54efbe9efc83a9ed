"""The AXL simulator: CUCM's AXL read operations over HTTP(S) on 127.0.0.1, for tests, the demo and benchmarks.

It serves listUser, getUser, executeSQLQuery (a SELECT subset on ``enduser``) and listChange from a generated
population, checks Basic auth, enforces the 8 MB response limit with CUCM's own fault, records changes made
through its API or control endpoint in a listChange queue, and injects faults on request ("fail the next N
requests with X", "fail request number K with X").
"""

from __future__ import annotations

import base64
import bisect
import hmac
import random
import re
import secrets
import shutil
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from connectors.axl.xml import MalformedXmlError, local, parse_xml, soap_payload

from . import render
from .changes import ChangeQueue
from .population import SimUser, generate, pkid_from
from .sqlquery import SqlError
from .sqlquery import parse as parse_sql

if TYPE_CHECKING:
    from .tlsgen import ServerCert

SERVED_VERSIONS = ("11.5", "12.0", "12.5", "14.0", "15.0")
FAULT_KINDS = ("503", "memory", "too_large", "slow", "drop", "malformed", "html500", "401", "404", "dtd", "fault")
AXL_NS_PREFIX = "http://www.cisco.com/AXL/API/"
_ACTION_RE = re.compile(r'^"?CUCM:DB ver=(\S+) (\w+)"?$')
_STATUS_TEXT = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error",
                503: "Service Unavailable"}


@dataclass
class FaultRule:
    """One injected fault: for the next ``count`` matching requests, or for request number ``at`` only."""

    kind: str
    count: int = 1
    at: int | None = None
    op: str | None = None            # only requests for this operation (None: any)
    delay: float = 2.0               # "slow": seconds before the (normal) answer
    code: int = -1                   # "fault": axlcode
    message: str = "Simulated fault"  # "fault": axlmessage


@dataclass
class Exchange:
    """One AXL request and its answer (kept when the simulator records)."""

    op: str
    version: str
    request: bytes
    status: int
    response: bytes


@dataclass
class _Reply:
    status: int
    body: bytes
    ctype: str = "text/xml; charset=utf-8"
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or fails the TLS handshake is normal here (tests do it on purpose)."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Simulator:
    """An AXL server for ``users`` generated people. ``start()`` serves from a background thread.

    ``response_limit`` is CUCM's 8 MB cap (lower it to provoke "Query request too large" with few users).
    ``evict_fault``: a listChange from an evicted change id faults (CUCM's documented behaviour); False answers
    with the queue info instead, leaving the client to notice ``firstChangeId`` > its start id.
    ``cert`` (with ``tls``): what the served certificate says (default: valid, for 127.0.0.1 and localhost).
    """

    def __init__(self, users: int, seed: int = 1, tls: bool = False, username: str = "axl",
                 password: str | None = None, port: int = 0, *, response_limit: int = 8 * 1024 * 1024,
                 queue_capacity: int = 100_000, change_page: int = 1000, record: bool = False,
                 versions: tuple[str, ...] = SERVED_VERSIONS, evict_fault: bool = True,
                 cert: ServerCert | None = None) -> None:
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.tls = tls
        self.response_limit = response_limit
        self.change_page = change_page
        self.versions = versions
        self.evict_fault = evict_fault
        self.record = record
        self.exchanges: list[Exchange] = []
        self.request_count = 0          # AXL requests received (the K of "fail request number K")
        self.connections = 0            # TCP connections accepted (keep-alive reuse shows as few)
        self.cookie_requests = 0        # requests that came back with the session cookie
        self.in_flight = 0              # AXL requests being answered now
        self.max_in_flight = 0          # the most at once (Cisco asks clients for one at a time)
        self._seed = seed
        self._lock = threading.RLock()
        self._rng_pkids = random.Random(seed + 7919)   # new users get reproducible pkids too
        self._users: list[SimUser] = generate(users, seed)
        self._keys: list[str] = [u.pkid for u in self._users]
        self._by_pkid: dict[str, SimUser] = {u.pkid: u for u in self._users}
        self._by_userid: dict[str, SimUser] = {u.userid: u for u in self._users}
        self._cache: dict[tuple[str, tuple[str, ...]], list[bytes]] = {}
        self._queue = ChangeQueue(queue_capacity)
        self._faults: list[FaultRule] = []
        self._sessions: set[str] = set()
        self._tmp: Path | None = None
        self.ca_file: str | None = None
        self._ssl: ssl.SSLContext | None = None
        if tls:
            from .tlsgen import ServerCert, make_ca_and_server

            self._tmp = Path(tempfile.mkdtemp(prefix="axlsim-"))
            ca, cert_file, key_file = make_ca_and_server(self._tmp, cert or ServerCert())
            self.ca_file = str(ca)
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl.load_cert_chain(cert_file, key_file)
        from .handler import AxlRequestHandler

        self._httpd = _Server(("127.0.0.1", port), AxlRequestHandler)
        if self._ssl is not None:
            # The handshake happens on the first read, in the handler's thread, not in the accept loop.
            self._httpd.socket = self._ssl.wrap_socket(self._httpd.socket, server_side=True,
                                                       do_handshake_on_connect=False)
        self._httpd.sim = self  # type: ignore[attr-defined]
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/axl/"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"axlsim-{self.port}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- population and mutations (each recorded in the change queue) ------------------------------------

    @property
    def population(self) -> list[SimUser]:
        """A snapshot of the users, in pkid order (copies: mutate through the methods below)."""
        with self._lock:
            return [SimUser(u.pkid, u.userid, u.mailid, u.firstname, u.lastname, u.status, u.ldap)
                    for u in self._users]

    def user(self, userid: str) -> SimUser:
        with self._lock:
            u = self._by_userid[userid]
            return SimUser(u.pkid, u.userid, u.mailid, u.firstname, u.lastname, u.status, u.ldap)

    def _changed(self) -> None:
        self._cache.clear()

    def set_status(self, userid: str, status: int) -> None:
        with self._lock:
            u = self._by_userid[userid]
            u.status = status
            self._changed()
            self._queue.record("u", u.uuid, False, {"status": str(status)})

    def set_mail(self, userid: str, mail: str | None) -> None:
        with self._lock:
            u = self._by_userid[userid]
            u.mailid = mail
            self._changed()
            self._queue.record("u", u.uuid, False, {"mailid": mail})

    def add_user(self, userid: str, mailid: str | None = None, firstname: str | None = None,
                 lastname: str | None = None, status: int = 1, ldap: bool = True) -> SimUser:
        with self._lock:
            if userid in self._by_userid:
                raise ValueError(f"user {userid!r} exists")
            u = SimUser(pkid_from(self._rng_pkids), userid, mailid, firstname, lastname, status, ldap)
            i = bisect.bisect_left(self._keys, u.pkid)
            self._keys.insert(i, u.pkid)
            self._users.insert(i, u)
            self._by_pkid[u.pkid] = u
            self._by_userid[userid] = u
            self._changed()
            self._queue.record("a", u.uuid, True)
            return SimUser(u.pkid, u.userid, u.mailid, u.firstname, u.lastname, u.status, u.ldap)

    def remove_user(self, userid: str) -> None:
        with self._lock:
            u = self._by_userid.pop(userid)
            i = bisect.bisect_left(self._keys, u.pkid)
            del self._keys[i]
            del self._users[i]
            del self._by_pkid[u.pkid]
            self._changed()
            self._queue.record("r", u.uuid, False)

    def reset_queue(self) -> None:
        """Empty the change queue under a new queueId, as an AXL service restart does."""
        with self._lock:
            self._queue.reset()

    @property
    def queue_id(self) -> str:
        return self._queue.queue_id

    # -- faults -------------------------------------------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, *, at: int | None = None, op: str | None = None,
                     delay: float = 2.0, code: int = -1, message: str = "Simulated fault") -> None:
        """Fail the next ``count`` AXL requests (of operation ``op``, if given) with ``kind``; with ``at``,
        fail request number ``at`` (see :attr:`request_count`) instead. Kinds: see ``FAULT_KINDS``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {', '.join(FAULT_KINDS)})")
        with self._lock:
            self._faults.append(FaultRule(kind, count, at, op, delay, code, message))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, number: int, op: str) -> FaultRule | None:
        with self._lock:
            for rule in self._faults:
                if rule.op is not None and rule.op != op:
                    continue
                if rule.at is not None:
                    if rule.at == number:
                        self._faults.remove(rule)
                        return rule
                    continue
                rule.count -= 1
                if rule.count <= 0:
                    self._faults.remove(rule)
                return rule
        return None

    # -- control endpoint (JSON) --------------------------------------------------------------------------

    def control(self, action: str, args: dict[str, Any]) -> dict[str, Any]:
        """What ``POST /control/ACTION`` does; raises KeyError/ValueError/TypeError for bad input."""
        table: dict[str, Callable[..., Any]] = {
            "fault": self.inject_fault, "clear-faults": self.clear_faults, "status": self.set_status,
            "mail": self.set_mail, "add": self.add_user, "remove": self.remove_user,
            "reset-queue": self.reset_queue,
        }
        if action == "state":
            return self.state()
        if action not in table:
            raise KeyError(action)
        table[action](**args)
        return self.state()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"users": len(self._users), "requests": self.request_count, "queue_id": self._queue.queue_id,
                    "last_change_id": self._queue.last_id, "faults_pending": len(self._faults)}

    # -- AXL ----------------------------------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.username.encode()) and hmac.compare_digest(
            pw.encode(), self.password.encode())

    def new_session(self) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._sessions.add(token)
        return token

    def known_session(self, token: str | None) -> bool:
        with self._lock:
            known = token is not None and token in self._sessions
            if known:
                self.cookie_requests += 1
            return known

    def answer(self, soap_action: str | None, body: bytes) -> _Reply:
        """Answer one AXL POST (after authentication)."""
        with self._lock:
            self.request_count += 1
            number = self.request_count
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(number, soap_action, body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, number: int, soap_action: str | None, body: bytes) -> _Reply:
        try:
            payload = soap_payload(parse_xml(body))
        except MalformedXmlError as e:
            return _Reply(500, render.fault(-1, f"Invalid request: {e}", "", "soapenv:Client"))
        tag = payload.tag if isinstance(payload.tag, str) else ""
        ns, op = (tag[1:].split("}", 1) if tag.startswith("{") else ("", tag))
        version = ns[len(AXL_NS_PREFIX):] if ns.startswith(AXL_NS_PREFIX) else ""
        reply = self._check_version(soap_action, version, op)
        if reply is None:
            rule = self._take_fault(number, op)
            if rule is not None and rule.kind == "slow":
                time.sleep(rule.delay)
                rule = None
            reply = self._fault_reply(rule, version, op) if rule is not None else self._dispatch(op, version, payload)
        if self.record:
            with self._lock:
                self.exchanges.append(Exchange(op, version, body, reply.status, reply.body))
        return reply

    def _check_version(self, soap_action: str | None, version: str, op: str) -> _Reply | None:
        if not version:
            return _Reply(500, render.fault(-1, "The request is not in an AXL namespace", op, "soapenv:Client"))
        if soap_action:
            m = _ACTION_RE.match(soap_action.strip())
            if not m or m.group(1) != version or m.group(2) != op:
                return _Reply(500, render.fault(
                    -1, f"The AXL version and operation in the SOAPAction header ({soap_action.strip()}) do not match "
                        f"the request (version {version}, {op})", op, "soapenv:Client"))
        if version not in self.versions:
            return _Reply(500, render.fault(-1, f"AXL schema version {version} is not supported", op,
                                             "soapenv:Client"))
        return None

    def _fault_reply(self, rule: FaultRule, version: str, op: str) -> _Reply:
        k = rule.kind
        if k == "503":
            return _Reply(503, render.html_page(503, "Service Unavailable"), "text/html;charset=utf-8")
        if k == "html500":
            return _Reply(500, render.html_page(500, "Internal Server Error"), "text/html;charset=utf-8")
        if k == "401":
            return _Reply(401, render.html_page(401, "Unauthorized"), "text/html;charset=utf-8")
        if k == "404":
            return _Reply(404, render.html_page(404, "Not Found"), "text/html;charset=utf-8")
        if k == "memory":
            return _Reply(500, render.fault(-1, "Maximum AXL Memory Allocation Consumed. Please retry once requests "
                                                "in progress have completed", op))
        if k == "too_large":
            return _Reply(500, render.fault(-1, "Query request too large. Total rows matched: 250000 rows. "
                                                "Suggestive Row Fetch: less than 10000 rows", op))
        if k == "fault":
            return _Reply(500, render.fault(rule.code, rule.message, op))
        if k == "malformed":
            good = render.envelope(version, op, [b"<row><pkid>x</pkid></row>"])
            return _Reply(200, good[: len(good) // 2])
        if k == "dtd":
            return _Reply(200, render.entity_bomb(version))
        return _Reply(200, b"", drop=True)      # drop

    def _dispatch(self, op: str, version: str, payload: etree._Element) -> _Reply:
        try:
            match op:
                case "executeSQLQuery":
                    return self._sql(version, payload)
                case "listUser":
                    return self._list_user(version, payload)
                case "getUser":
                    return self._get_user(version, payload)
                case "listChange":
                    return self._list_change(version, payload)
        except SqlError as e:
            return _Reply(500, render.fault(e.code, str(e), op))
        except (ValueError, TypeError) as e:
            return _Reply(500, render.fault(-1, f"Invalid request: {e}", op, "soapenv:Client"))
        return _Reply(500, render.fault(-1, f"No such operation '{op}'", op, "soapenv:Client"))

    def _rendered(self, kind: str, cols: tuple[str, ...]) -> list[bytes]:
        """Every user rendered for ``cols``, in pkid order; cached until the next mutation. Lock held."""
        key = (kind, cols)
        rows = self._cache.get(key)
        if rows is None:
            fn = render.sql_row if kind == "sql" else render.luser
            rows = self._cache[key] = [fn(u, cols) for u in self._users]
        return rows

    def _too_large(self, rows: list[bytes], op: str) -> _Reply | None:
        total = sum(map(len, rows))
        if total <= self.response_limit:
            return None
        fit = max(1, int(len(rows) * self.response_limit / total))
        return _Reply(500, render.fault(-1, f"Query request too large. Total rows matched: {len(rows)} rows. "
                                            f"Suggestive Row Fetch: less than {fit} rows", op))

    def _sql(self, version: str, payload: etree._Element) -> _Reply:
        q = parse_sql(payload.findtext("sql") or "")
        with self._lock:
            if q.pkids is not None:
                users = sorted((self._by_pkid[p] for p in set(q.pkids) if p in self._by_pkid), key=lambda u: u.pkid)
                rows = [render.sql_row(u, q.columns) for u in users]
            else:
                rendered = self._rendered("sql", q.columns)
                lo = bisect.bisect_right(self._keys, q.after) if q.after else 0
                if q.status is not None:
                    rows = [r for u, r in zip(self._users[lo:], rendered[lo:], strict=True) if u.status == q.status]
                    rows = rows[q.skip:][: q.first] if q.first is not None else rows[q.skip:]
                else:
                    lo += q.skip
                    rows = rendered[lo: lo + q.first] if q.first is not None else rendered[lo:]
        return self._too_large(rows, "executeSQLQuery") or _Reply(200, render.envelope(version, "executeSQLQuery",
                                                                                        rows))

    @staticmethod
    def _like(pattern: str) -> re.Pattern[str]:
        return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern) + r"\Z",
                          re.I | re.S)

    def _tags(self, el: etree._Element | None, order: tuple[str, ...]) -> tuple[str, ...]:
        asked = [local(c.tag) for c in el if isinstance(c.tag, str)] if el is not None else []
        unknown = [t for t in asked if t not in order]
        if unknown:
            raise ValueError(f"returnedTags: unknown element {unknown[0]}")
        return tuple(t for t in order if t in asked) if asked else order   # empty returnedTags: every tag

    def _list_user(self, version: str, payload: etree._Element) -> _Reply:
        sc = payload.find("searchCriteria")
        criteria = {local(c.tag): c.text or "" for c in sc if isinstance(c.tag, str)} if sc is not None else {}
        if not criteria:
            raise ValueError("At least one element under searchCriteria has to be mentioned")
        tags = self._tags(payload.find("returnedTags"), render.LUSER_TAGS)
        skip = int(payload.findtext("skip") or 0)
        first_text = payload.findtext("first")
        first = int(first_text) if first_text else None
        field_of = {"firstName": "firstname", "lastName": "lastname", "userid": "userid", "department": "department"}
        with self._lock:
            if all(v == "%" for v in criteria.values()):
                rows = self._rendered("list", tags)
            else:
                pats = {k: self._like(v) for k, v in criteria.items() if k in field_of}
                rows = [render.luser(u, tags) for u in self._users
                        if all(p.match(str(render.user_field(u, field_of[k]) or "")) for k, p in pats.items())]
            if first is not None:   # skip counts only together with first
                rows = rows[skip: skip + first]
        return self._too_large(rows, "listUser") or _Reply(200, render.envelope(version, "listUser", rows))

    def _get_user(self, version: str, payload: etree._Element) -> _Reply:
        uuid, userid = payload.findtext("uuid"), payload.findtext("userid")
        tags = self._tags(payload.find("returnedTags"), render.RUSER_TAGS)
        with self._lock:
            u = self._by_pkid.get(uuid.strip().strip("{}").lower()) if uuid else self._by_userid.get(userid or "")
            if u is None:
                return _Reply(500, render.fault(5007, "Item not valid: The specified User was not found", "getUser"))
            row = render.ruser(u, tags)
        return _Reply(200, render.envelope(version, "getUser", [row]))

    def _list_change(self, version: str, payload: etree._Element) -> _Reply:
        start_el = payload.find("startChangeId")
        with self._lock:
            q = self._queue
            info: dict[str, int | str] = {"firstChangeId": q.first_id, "lastChangeId": q.last_id,
                                           "nextStartChangeId": q.next_id, "queueId": q.queue_id}
            if start_el is None:        # the first call: the queue position only (as CUCM 14/15 answer)
                return _Reply(200, render.change_response(version, info, None))
            if start_el.get("queueId") != q.queue_id:
                return _Reply(500, render.fault(5007, "The queueId value does not match the server. The server "
                                                      "restarted and a full sync is needed", "listChange"))
            start = int((start_el.text or "0").strip())
            if q.evicted(start):
                if self.evict_fault:
                    return _Reply(500, render.fault(-1, f"Change id {start} is no longer in the change queue "
                                                        f"(oldest is {q.first_id}); a full sync is needed",
                                                    "listChange"))
                return _Reply(200, render.change_response(version, info, None))
            batch = q.since(start, self.change_page)
            info["nextStartChangeId"] = batch[-1].id + 1 if batch else max(start, q.next_id)
            changes = [render.change(c.id, c.action, c.uuid, c.do_get, c.tags) for c in batch]
        return _Reply(200, render.change_response(version, info, changes))


def drop_connection(sock: socket.socket) -> None:
    """Make the coming close a TCP reset (SO_LINGER 0), as a crashed peer or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
