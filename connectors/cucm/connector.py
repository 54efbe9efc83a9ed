"""The CUCM source: full reads (SQL on ``enduser`` or listUser pages) and incremental reads (listChange).

Each read returns a :class:`~connectors.base.SourceBatch` and never raises for a source failure: a failed read
is an incomplete batch with a one-line ``error``, so nobody is deactivated because of it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from lxml import etree

from connectors.base import Convert, SourceBatch, as_is
from connectors.cucm.records import CucmUser
from connectors.transport import one_line

from . import sql
from .client import AxlClient, AxlError
from .options import DEFAULT_TUNING, CucmOptions, Tuning
from .parse import (
    LIST_FIELDS,
    Change,
    change_page,
    norm_uuid,
    page_extent,
    sql_ldap_flag,
    sql_rows,
    user_from_get,
    users_from_list,
    users_from_sql,
)

log = logging.getLogger("connectors.cucm")

LIST_TAGS = dict.fromkeys(LIST_FIELDS, "")
GET_TAGS = {**LIST_TAGS, "ldapDirectoryName": ""}
OBJECTS = {"object": ["User"]}
# Beyond this many changed users an incremental read re-reads more slowly than a full read would read everyone
# (SQL re-reads 200 users per query; listUser sites re-read with one getUser per user).
REREAD_LIMIT = {"sql": 20_000, "list": 2_000}
# No point in falling back to another call: credentials, trust, endpoint or a hostile peer are the problem.
FATAL_KINDS = frozenset(("auth", "tls", "unreachable", "config", "session", "unsafe"))


class _NeedFullRead(Exception):
    """The incremental read cannot be trusted; the message says why (it goes to the batch notes and the log)."""


def _braced(uuid: str) -> str:
    return "{" + uuid.upper() + "}"


class CucmConnector:
    """Reads one CUCM cluster (its publisher). Cheap to construct: the shipped WSDL loads in a few ms.

    Raises ValueError from the constructor for settings that cannot work (bad version, method, WSDL).
    """

    source_type = "cucm"

    def __init__(self, opts: CucmOptions, *, tuning: Tuning = DEFAULT_TUNING) -> None:
        problem = opts.missing_files()
        if problem:
            raise ValueError(problem)
        self.opts = opts
        self.name = opts.name
        self.tuning = tuning
        self._client = AxlClient(opts, tuning=tuning)

    def close(self) -> None:
        self._client.close()

    # -- entry point --------------------------------------------------------------------------------------

    def read(self, cursor: dict[str, Any] | None, full: bool, now: datetime,
             convert: Convert | None = None) -> SourceBatch:
        """Read the source: incrementally from ``cursor`` unless ``full`` or the cursor cannot be used."""
        convert = convert or as_is
        notes: list[str] = []
        if self.opts.insecure:
            log.warning("%s: TLS certificate verification is OFF (insecure = true)", self.name)
            notes.append("TLS certificate verification is off (insecure = true)")
        if self.opts.url.startswith("http://"):
            log.warning("%s: plain HTTP: the AXL password and user data cross the network unencrypted", self.name)
            notes.append("plain HTTP (no TLS)")
        full_read = full or not cursor
        try:
            if not full_read:
                try:
                    return self._incremental(cursor or {}, notes, convert)
                except _NeedFullRead as e:
                    log.warning("%s: %s: full read", self.name, e)
                    notes.append(f"{e}: full read")
                    full_read = True
            elif not full:
                notes.append("no stored cursor: full read")
            return self._full(notes, convert)
        except AxlError as e:
            # A warning: the batch's error is what the run reports (the CLI's one line, the run's "source read")
            log.warning("%s: read failed: %s", self.name, e)
            return SourceBatch(self.name, self.source_type, [], complete=False, full=full_read,
                               error=f"CUCM {self.name}: {e}", notes=notes)
        except Exception as e:   # a bug must not look like an empty, complete source
            log.exception("%s: read failed", self.name)
            return SourceBatch(self.name, self.source_type, [], complete=False, full=full_read,
                               error=f"CUCM {self.name}: unexpected error: {type(e).__name__}: {one_line(e)}",
                               notes=notes)

    # -- full read ----------------------------------------------------------------------------------------

    def _full(self, notes: list[str], convert: Convert) -> SourceBatch:
        cursor = self._baseline(notes)
        records = self._all_by_sql(convert) if self.opts.method == "sql" else self._all_by_list(convert)
        log.info("%s: full read: %d users (%d requests)", self.name, len(records), self._client.requests_sent)
        return SourceBatch(self.name, self.source_type, records, complete=True, full=True, cursor=cursor,
                           notes=notes)

    def _baseline(self, notes: list[str]) -> dict[str, Any] | None:
        """Take the change queue's position *before* the full read, so changes made during it are replayed."""
        try:
            page = change_page(self._client.call("listChange", objectList=OBJECTS))
        except AxlError as e:
            if e.kind in FATAL_KINDS:
                raise
            log.warning("%s: listChange unavailable (%s); the next read will be full too", self.name, e)
            notes.append(f"listChange unavailable ({e}): no incremental cursor")
            return None
        if page.queue_id is None or page.next_start_change_id is None:
            notes.append("listChange gave no queue position: no incremental cursor")
            return None
        return {"queue_id": page.queue_id, "next_start_change_id": page.next_start_change_id}

    def _halve(self, page: int, e: AxlError) -> int:
        if page <= 1:
            raise e
        smaller = max(1, page // 2)
        log.warning("%s: response too large at page size %d; retrying with %d", self.name, page, smaller)
        return smaller

    def _pages(self, op: str, start: Any, request: Callable[[Any, int], dict[str, Any]],
               advance: Callable[[etree._Element, Any, int], Any]) -> Iterator[etree._Element]:
        """Yield the response pages of a paged ``op``, one request at a time (as Cisco asks):
        ``request(pos, size)`` gives a page's arguments and ``advance(payload, pos, size)`` the next position
        (None after the last page). A "Query request too large" fault halves the page size and asks again.

        Pages are not prefetched from a second thread: the GIL hand-offs between a receiving thread and the
        parsing one cost more than the overlap gains.
        """
        page = self.opts.page_size
        pos = start
        while pos is not None:
            try:
                payload = self._client.call(op, **request(pos, page))
            except AxlError as e:
                if e.kind != "too_large":
                    raise
                page = self._halve(page, e)
                continue
            pos = advance(payload, pos, page)
            yield payload

    def _all_by_sql(self, convert: Convert) -> list[Any]:
        def advance(payload: etree._Element, pos: str, size: int) -> str | None:
            n, last = page_extent(payload)
            if n < size or last is None:
                return None
            nxt = norm_uuid(last.findtext("pkid"))
            if not nxt or nxt <= pos:       # a page must end past where it started, or paging never ends
                raise AxlError(f"executeSQLQuery: the page after pkid {pos or '(start)'} does not advance",
                               kind="malformed", temporary=False)
            return nxt

        records: list[Any] = []
        seen: set[str] = set()
        for payload in self._pages("executeSQLQuery", "", lambda last, size: {"sql": sql.page_after(last, size)},
                                   advance):
            for u in users_from_sql(payload, sql.COLUMNS):
                if u.uuid not in seen:
                    seen.add(u.uuid)
                    records.append(convert(u))
        return records

    def _all_by_list(self, convert: Convert) -> list[Any]:
        def request(skip: int, size: int) -> dict[str, Any]:
            return {"searchCriteria": {"userid": "%"}, "returnedTags": LIST_TAGS, "skip": skip, "first": size}

        def advance(payload: etree._Element, skip: int, size: int) -> int | None:
            n, _ = page_extent(payload)
            return skip + n if n >= size else None

        records: list[Any] = []
        seen: set[str] = set()
        for payload in self._pages("listUser", 0, request, advance):
            before = len(records)
            users = list(users_from_list(payload))
            for u in self._with_ldap_flags(users):
                if u.uuid not in seen:      # rows can shift between pages while users change: upsert by uuid
                    seen.add(u.uuid)
                    records.append(convert(u))
            if users and len(records) == before and len(users) >= self.opts.page_size:
                raise AxlError("listUser: a full page of users already read (skip ignored?); stopping",
                               kind="malformed", temporary=False)
        return records

    def _with_ldap_flags(self, users: list[CucmUser]) -> list[CucmUser]:
        """listUser cannot tell LDAP from local users; add the flag as ``ldap_flag`` says."""
        if self.opts.ldap_flag == "ad" or not users:
            return users
        flags: dict[str, bool | None] = {}
        if self.opts.ldap_flag == "sql":
            step = self.tuning.change_chunk
            for i in range(0, len(users), step):
                payload = self._client.call(
                    "executeSQLQuery", sql=sql.by_pkids([u.uuid for u in users[i:i + step]], sql.FLAG_COLUMNS))
                for row in sql_rows(payload):
                    flags[(row.get("pkid") or "").lower()] = sql_ldap_flag(
                        row.get("fkdirectorypluginconfig"), row.get("islocaluser"))
        else:   # getuser: one call per user (slow at scale; documented)
            for u in users:
                got = self._get_user(u.uuid, {"ldapDirectoryName": ""})
                if got is not None:
                    flags[u.uuid] = got.ldap_synced
        return [dataclasses.replace(u, ldap_synced=flags.get(u.uuid)) for u in users]

    def _get_user(self, uuid: str, tags: dict[str, str]) -> CucmUser | None:
        """getUser by uuid; None when CUCM says the user does not exist (axlcode 5007)."""
        try:
            payload = self._client.call("getUser", uuid=_braced(uuid), returnedTags=tags)
        except AxlError as e:
            if e.fault is not None and e.fault.axlcode == 5007:
                return None
            raise
        return user_from_get(payload, ldap_flag=True)

    # -- incremental read ---------------------------------------------------------------------------------

    def _incremental(self, cursor: dict[str, Any], notes: list[str], convert: Convert) -> SourceBatch:
        queue_id = cursor.get("queue_id")
        nxt = cursor.get("next_start_change_id")
        if not isinstance(queue_id, str) or not isinstance(nxt, int) or isinstance(nxt, bool):
            raise _NeedFullRead("stored cursor is not usable")
        changed: dict[str, Change] = {}
        while True:
            try:
                payload = self._client.call("listChange", startChangeId={"queueId": queue_id, "_value_1": nxt},
                                            objectList=OBJECTS)
            except AxlError as e:
                if e.kind in FATAL_KINDS:
                    raise
                raise _NeedFullRead(f"listChange failed ({e})") from None
            page = change_page(payload)
            if page.queue_id is not None and page.queue_id != queue_id:
                raise _NeedFullRead("change queue id changed (AXL service restarted)")
            if page.first_change_id is not None and page.first_change_id > nxt:
                raise _NeedFullRead(f"changes from id {nxt} were evicted from the change queue")
            if page.next_start_change_id is None:
                raise _NeedFullRead("listChange answer without queue position")
            for c in page.changes:
                prev = changed.pop(c.uuid, None)
                if prev is not None:
                    c.tags = {**prev.tags, **c.tags}
                changed[c.uuid] = c         # the last action wins; the order is that of the last change
            progressed = page.next_start_change_id > nxt
            nxt = page.next_start_change_id
            if not progressed or page.last_change_id is None or page.last_change_id < nxt:
                break
        limit = REREAD_LIMIT[self.opts.method]
        if len(changed) > limit:
            raise _NeedFullRead(f"{len(changed)} changed users (more than {limit} to re-read one by one)")
        records = [convert(u) for u in self._reread(changed)]
        notes.append(f"{len(changed)} changed users since change id {cursor['next_start_change_id']}")
        log.info("%s: incremental read: %d changed users", self.name, len(changed))
        return SourceBatch(self.name, self.source_type, records, complete=True, full=False,
                           cursor={"queue_id": queue_id, "next_start_change_id": nxt}, notes=notes)

    def _reread(self, changed: dict[str, Change]) -> list[CucmUser]:
        """Re-read changed users by uuid; removed ones (action r, or gone on re-read) come back removed=True."""
        wanted = [u for u, c in changed.items() if c.action != "r" and u]
        found: dict[str, CucmUser] = {}
        if self.opts.method == "sql":
            step = self.tuning.change_chunk
            for i in range(0, len(wanted), step):
                payload = self._client.call("executeSQLQuery", sql=sql.by_pkids(wanted[i:i + step]))
                for u in users_from_sql(payload, sql.COLUMNS):
                    found[u.uuid] = u
        else:
            for uuid in wanted:
                got = self._get_user(uuid, GET_TAGS)
                if got is not None:
                    found[uuid] = got if self.opts.ldap_flag != "ad" else dataclasses.replace(got, ldap_synced=None)
        out: list[CucmUser] = []
        for uuid, c in changed.items():
            if not uuid:
                continue
            if uuid in found:
                out.append(found[uuid])
            else:
                out.append(CucmUser(uuid=uuid, userid=c.tags.get("userid") or "", mailid=c.tags.get("mailid") or None,
                                    firstname=None, lastname=None, status=0, ldap_synced=None, removed=True))
        return out
