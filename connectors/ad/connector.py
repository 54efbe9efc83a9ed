"""The Active Directory connector (source type ``ad``): full reads by paged search, incremental reads by DirSync
or by uSNChanged.

Full read: person users under each base DN (pages of ``page_size``), the host group's nested members (rule
1.2.840.113556.1.4.1941), and the tombstones in ``CN=Deleted Objects`` (Show Deleted), so an account deleted
before syncd first ran still counts as deleted. The cursor for the next incremental read is taken *before* the
pass: a change made during it is read again next time, which is harmless.

Incremental read (``full=False`` with a usable cursor): the changed users only, each complete:
- ``dirsync``: one DirSync pass (OBJECT_SECURITY, so a non-admin account works) from the stored cookie, looping
  while the server says more results; the changed objects are re-read by objectGUID with the person filter, the
  extra filter and the base DNs applied; tombstones become ``AdUser(deleted=True)`` matched by GUID.
- ``usn``: users and tombstones with uSNChanged above the stored high-water mark, on the same DC (its
  dsServiceName and invocationId are checked; a different DC or a restored one means a full read).
Both modes also run the host group's nested-membership query every round (DirSync sees no change deep in nested
groups, uSNChanged none in ``memberOf``) and report the users whose eligibility changed, and both report users
whose accountExpires passed since the previous run (expiry writes nothing, so no change feed shows it).
A changed object that is no longer a person inside the base DNs and filter is reported as deleted with only its
GUID, so it affects only a person already linked to it. Moves and renames of parent OUs are left to the
scheduled full read, which reconciles whatever an incremental read misses.

Failures: each DC of ``urls`` is tried in turn (the one that last worked first; a dropped cached connection is
reopened). When none completes, the batch is incomplete with a one-line ``error``; ``read`` never raises for a
source failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from ldap3 import BASE, SUBTREE, Connection
from ldap3.core import exceptions as lx
from ldap3.protocol.microsoft import show_deleted_control
from ldap3.utils.conv import escape_bytes, escape_filter_chars

from connectors.ad import cursor as cur
from connectors.ad.dirsync import dirsync_control, dirsync_response
from connectors.ad.options import AdOptions
from connectors.ad.records import AdUser
from connectors.ad.session import close_quietly, connect, describe, one_line
from connectors.ad.values import (
    IN_CHAIN,
    PERSON_FILTER,
    TOMBSTONE_ATTRIBUTES,
    USER_ATTRIBUTES,
    USER_CLASS_FILTER,
    RawAttributes,
    datetime_to_filetime,
    entry_guid,
    guid_raw,
    guid_text,
    is_deleted,
    tombstone,
    tombstone_from_entry,
    user_from_entry,
)
from connectors.base import Convert, SourceBatch, SourceError, as_is

DIRSYNC_ATTRIBUTES = [
    "objectGUID", "sAMAccountName", "userPrincipalName", "mail", "userAccountControl", "accountExpires",
    "isDeleted", "name",
]
NO_MATCH = "(&(objectClass=user)(!(objectClass=user)))"   # a DirSync over nothing: just the current cookie
GUID_BATCH = 100
GROUP_BATCH = 50


class _FallBackToFull(Exception):
    """The stored cursor cannot be used on this DC (cookie rejected, other DC, restored DC)."""


class AdConnector:
    """Reads one AD domain. Not thread-safe: one read at a time (the run lock guarantees it)."""

    source_type = "ad"

    def __init__(self, opts: AdOptions) -> None:
        self.opts = opts
        self.name = opts.name
        self._conn: Connection | None = None
        self._url: str | None = None      # the DC that last worked
        self._nc: str | None = None       # the domain naming context, from the rootDSE

    # ------------------------------------------------------------------------------------------------ public
    def read(self, cursor: dict[str, Any] | None, full: bool, now: datetime,
             convert: Convert | None = None) -> SourceBatch:
        convert = convert or as_is
        notes: list[str] = []
        if not full:
            reason = "no cursor yet" if cursor is None else cur.invalid_reason(cursor, self.opts)
            if reason:
                notes.append(f"full read: {reason}")
                full = True
        assert full or cursor is not None
        errors: list[str] = []
        preferred = cursor.get("dc") if cursor and not full else None
        for url, conn in self._connections(preferred, errors):
            try:
                if full:
                    batch = self._full(conn, url, now, notes, convert)
                else:
                    try:
                        batch = self._incremental(conn, url, cursor or {}, now, notes, convert)
                    except _FallBackToFull as exc:
                        notes.append(f"full read: {exc}")
                        batch = self._full(conn, url, now, notes, convert)
                batch.notes[:0] = [f"domain controller skipped: {e}" for e in errors]
                return batch
            except Exception as exc:
                err = describe(exc)
                errors.append(f"{url}: {err}")
                self._drop()
        return self._failed("; ".join(errors) or "no domain controller answered", full=full, notes=notes)

    def close(self) -> None:
        self._drop()

    # ------------------------------------------------------------------------------------------- connections
    def _connections(self, preferred: str | None, errors: list[str]) -> Iterator[tuple[str, Connection]]:
        """The cached connection first, then a fresh one to each DC, starting with ``preferred`` or the DC that
        last worked; a DC that cannot be reached or bound is skipped for the next."""
        if self._conn is not None and self._url is not None and not self._conn.closed:
            yield self._url, self._conn
        start = preferred if preferred in self.opts.urls else self._url
        order = list(self.opts.urls)
        if start in order:
            i = order.index(start)
            order = order[i:] + order[:i]
        for url in order:
            self._drop()
            try:
                conn = connect(self.opts, url)
            except SourceError as exc:
                errors.append(f"{url}: {exc}")
                continue
            self._conn, self._url, self._nc = conn, url, None
            yield url, conn

    def _drop(self) -> None:
        close_quietly(self._conn)
        self._conn = None

    def _failed(self, error: str, *, full: bool, notes: list[str] | None = None) -> SourceBatch:
        return SourceBatch(source=self.name, source_type=self.source_type, records=[], complete=False, full=full,
                           cursor=None, error=one_line(error), notes=notes or [])

    # ---------------------------------------------------------------------------------------------- helpers
    def _root_dse(self, conn: Connection) -> dict[str, str]:
        conn.search("", "(objectClass=*)", BASE,
                    attributes=["defaultNamingContext", "highestCommittedUSN", "dsServiceName"])
        attrs = conn.response[0]["raw_attributes"]
        out = {k: bytes(v[0]).decode("utf-8") for k, v in attrs.items() if v}
        lower = {k.lower(): v for k, v in out.items()}
        self._nc = lower.get("defaultnamingcontext")
        if not self._nc:
            raise SourceError("the rootDSE has no defaultNamingContext (not an AD domain controller?)")
        return lower

    def _bases(self) -> list[str]:
        return list(self.opts.base_dns)

    def _person_filter(self, *extra: str) -> str:
        return f"(&{PERSON_FILTER}{self.opts.filter}{''.join(extra)})"

    def _paged(self, conn: Connection, base: str, flt: str, attributes: list[str],
               controls: list[Any] | None = None) -> Iterator[tuple[str, RawAttributes]]:
        for e in conn.extend.standard.paged_search(base, flt, SUBTREE, attributes=attributes,
                                                   paged_size=self.opts.page_size, controls=controls,
                                                   generator=True):
            if e.get("type") == "searchResEntry":   # referrals (searchResRef) are not followed
                yield e["dn"], e["raw_attributes"]

    def _eligible(self, conn: Connection) -> set[str] | None:
        """objectGUIDs of the persons in the host group, directly or through nested groups.

        The nested-membership rule (1.2.840.113556.1.4.1941) is applied to *groups* (few, anywhere in the
        domain), then persons are selected by direct ``memberOf`` of any group of that closure: the same set as
        rule 1941 on every person, but Samba evaluates it several times faster, and AD documents 1941 on large
        fan-outs as CPU-heavy."""
        if not self.opts.host_group:
            return None
        assert self._nc is not None
        nested = f"(&(objectClass=group)(memberOf:{IN_CHAIN}:={escape_filter_chars(self.opts.host_group)}))"
        groups = [self.opts.host_group]
        groups += [dn for dn, _attrs in self._paged(conn, self._nc, nested, ["objectGUID"])]
        out: set[str] = set()
        for i in range(0, len(groups), GROUP_BATCH):
            ors = "".join(f"(memberOf={escape_filter_chars(g)})" for g in groups[i:i + GROUP_BATCH])
            flt = self._person_filter(f"(|{ors})")
            for base in self._bases():
                for _dn, attrs in self._paged(conn, base, flt, ["objectGUID"]):
                    guid = entry_guid(attrs)
                    if guid:
                        out.add(guid)
        return out

    def _deleted_objects_visible(self, conn: Connection) -> bool:
        conn.search(f"CN=Deleted Objects,{self._nc}", "(objectClass=*)", BASE, attributes=["objectGUID"],
                    controls=[show_deleted_control(criticality=True)])
        # Without Read Property the container still comes back, but bare: its objectGUID shows the grant.
        return any(e.get("type") == "searchResEntry" and entry_guid(e["raw_attributes"]) for e in conn.response)

    def _tombstones(self, conn: Connection, usn_above: int | None = None) -> Iterator[AdUser]:
        assert self._nc is not None
        extra = "" if usn_above is None else f"(uSNChanged>={usn_above + 1})"
        flt = f"(&{USER_CLASS_FILTER}(isDeleted=TRUE){extra})"
        for dn, attrs in self._paged(conn, f"CN=Deleted Objects,{self._nc}", flt, TOMBSTONE_ATTRIBUTES,
                                     controls=[show_deleted_control(criticality=True)]):
            user = tombstone_from_entry(dn, attrs, self._bases(), bool(self.opts.host_group))
            if user is not None:
                yield user

    def _read_by_guid(self, conn: Connection, guids: Iterable[str], eligible: set[str] | None) -> list[AdUser]:
        """Re-read users by objectGUID (batched OR filters) with the scope applied; a GUID that is not a person
        in scope any more comes back as a GUID-only deleted record."""
        wanted = sorted(set(guids))
        found: dict[str, AdUser] = {}
        for i in range(0, len(wanted), GUID_BATCH):
            chunk = wanted[i:i + GUID_BATCH]
            ors = "".join(f"(objectGUID={escape_bytes(guid_raw(g))})" for g in chunk)
            flt = self._person_filter(f"(|{ors})")
            for base in self._bases():
                for dn, attrs in self._paged(conn, base, flt, USER_ATTRIBUTES):
                    user = user_from_entry(dn, attrs, self._membership(entry_guid(attrs), eligible))
                    if user is not None:
                        found[user.guid] = user
        host = bool(self.opts.host_group)
        return [found.get(g) or tombstone(g, host_group=host) for g in wanted]

    @staticmethod
    def _membership(guid: str | None, eligible: set[str] | None) -> bool | None:
        return None if eligible is None else guid in eligible

    def _expired_since(self, conn: Connection, since_ft: int, now_ft: int) -> set[str]:
        """Users whose accountExpires fell in (since, now]: their state changed without any write."""
        if now_ft <= since_ft:
            return set()
        flt = self._person_filter(f"(accountExpires>={since_ft + 1})(accountExpires<={now_ft})")
        out = set()
        for base in self._bases():
            for _dn, attrs in self._paged(conn, base, flt, ["objectGUID"]):
                guid = entry_guid(attrs)
                if guid:
                    out.add(guid)
        return out

    def _new_cursor(self, url: str, now: datetime, eligible: set[str] | None, **extra: Any) -> dict[str, Any]:
        return {"v": cur.VERSION, "mode": self.opts.mode, "scope": cur.scope_digest(self.opts), "dc": url,
                "expiry_checked": datetime_to_filetime(now), "eligible": cur.pack_guids(eligible), **extra}

    def _batch(self, records: list[Any], *, full: bool, cursor: dict[str, Any],
               notes: list[str]) -> SourceBatch:
        return SourceBatch(source=self.name, source_type=self.source_type, records=records, complete=True,
                           full=full, cursor=cursor, notes=notes)

    # ------------------------------------------------------------------------------------------- full read
    def _mark(self, conn: Connection, url: str, now: datetime) -> dict[str, Any]:
        """The incremental position as of now, taken before a full pass."""
        root = self._root_dse(conn)
        if self.opts.mode == "dirsync":
            return {"cookie": cur.b64(self._dirsync(conn, None, NO_MATCH, ["objectGUID"])[1])}
        return {"dc_service": root.get("dsservicename", ""), "invocation_id": self._invocation_id(conn, root),
                "usn": int(root.get("highestcommittedusn", "0"))}

    def _full(self, conn: Connection, url: str, now: datetime, notes: list[str], convert: Convert) -> SourceBatch:
        """Every user, each passed through ``convert`` as its entry arrives (a page of ``page_size`` at a time)."""
        mark = self._mark(conn, url, now)
        eligible = self._eligible(conn)
        users: dict[str, Any] = {}
        flt = self._person_filter()
        for base in self._bases():
            for dn, attrs in self._paged(conn, base, flt, USER_ATTRIBUTES):
                user = user_from_entry(dn, attrs, self._membership(entry_guid(attrs), eligible))
                if user is not None:
                    users[user.guid] = convert(user)
        records = list(users.values())
        # The live users are complete without tombstones (a linked person whose GUID is gone still counts as
        # deleted); but an account without rights on the container gets an empty answer, not an error, so
        # look for the container first and say so.
        hint = "grant the bind account List Contents and Read Property on CN=Deleted Objects"
        try:
            if self._deleted_objects_visible(conn):
                records += [convert(t) for t in self._tombstones(conn) if t.guid not in users]
            else:
                notes.append(f"tombstones not read: CN=Deleted Objects is not readable; {hint}")
        except (lx.LDAPInsufficientAccessRightsResult, lx.LDAPNoSuchObjectResult) as exc:
            notes.append(f"tombstones not read ({one_line(str(exc), 120)}); {hint}")
        return self._batch(records, full=True, cursor=self._new_cursor(url, now, eligible, **mark), notes=notes)

    # ------------------------------------------------------------------------------------ incremental reads
    def _incremental(self, conn: Connection, url: str, cursor: dict[str, Any], now: datetime,
                     notes: list[str], convert: Convert) -> SourceBatch:
        root = self._root_dse(conn)
        host = bool(self.opts.host_group)
        changed: set[str] = set()
        records: dict[str, AdUser] = {}
        eligible_now: set[str] | None = None
        extra: dict[str, Any]
        if self.opts.mode == "dirsync":
            try:
                entries, cookie = self._dirsync(conn, cur.unb64(cursor["cookie"]), USER_CLASS_FILTER,
                                                DIRSYNC_ATTRIBUTES)
            except lx.LDAPOperationResult as exc:
                if isinstance(exc, lx.LDAPInsufficientAccessRightsResult):
                    raise
                raise _FallBackToFull(f"DirSync cookie refused ({one_line(str(exc), 120)})") from None
            for _dn, attrs in entries:
                guid = entry_guid(attrs)
                if guid is None:
                    continue
                if is_deleted(attrs):
                    records[guid] = tombstone(guid, host_group=host)
                else:
                    changed.add(guid)
            extra = {"cookie": cur.b64(cookie)}
            eligible_now = self._eligible(conn)
        else:
            dc_service = root.get("dsservicename", "")
            invocation = self._invocation_id(conn, root)
            if dc_service != cursor["dc_service"]:
                raise _FallBackToFull("the high-water mark is from another domain controller")
            if invocation != cursor["invocation_id"]:
                raise _FallBackToFull("the domain controller's invocationId changed (restored?)")
            top = int(root.get("highestcommittedusn", "0"))
            last = int(cursor["usn"])
            eligible_now = self._eligible(conn)
            flt = self._person_filter(f"(uSNChanged>={last + 1})")
            for base in self._bases():
                for dn, attrs in self._paged(conn, base, flt, USER_ATTRIBUTES):
                    user = user_from_entry(dn, attrs, self._membership(entry_guid(attrs), eligible_now))
                    if user is not None:
                        records[user.guid] = user
            for t in self._tombstones(conn, usn_above=last):
                records.setdefault(t.guid, tombstone(t.guid, host_group=host))
            extra = {"dc_service": dc_service, "invocation_id": invocation, "usn": top}
        previous = cur.unpack_guids(cursor.get("eligible"))
        if eligible_now is not None and previous is not None:
            changed |= eligible_now ^ previous
        changed |= self._expired_since(conn, int(cursor["expiry_checked"]), datetime_to_filetime(now))
        changed -= records.keys()
        for user in self._read_by_guid(conn, changed, eligible_now):
            records[user.guid] = user
        return self._batch([convert(r) for r in records.values()], full=False,
                           cursor=self._new_cursor(url, now, eligible_now, **extra), notes=notes)

    def _dirsync(self, conn: Connection, cookie: bytes | None, flt: str,
                 attributes: list[str]) -> tuple[list[tuple[str, RawAttributes]], bytes]:
        """One DirSync pass over the naming context: every round until the server has no more results."""
        assert self._nc is not None
        entries: list[tuple[str, RawAttributes]] = []
        more = True
        while more:
            conn.search(self._nc, flt, SUBTREE, attributes=attributes,
                        controls=[dirsync_control(cookie), show_deleted_control(criticality=False)])
            page = dirsync_response(conn.result)
            if page is None:
                raise SourceError("the server ignored the DirSync control")
            entries += [(e["dn"], e["raw_attributes"]) for e in conn.response if e.get("type") == "searchResEntry"]
            more, cookie = page.more_results, page.cookie
        return entries, cookie or b""

    def _invocation_id(self, conn: Connection, root: dict[str, str]) -> str:
        service = root.get("dsservicename")
        if not service:
            raise SourceError("the rootDSE has no dsServiceName")
        conn.search(service, "(objectClass=*)", BASE, attributes=["invocationId"])
        raw = conn.response[0]["raw_attributes"].get("invocationId") if conn.response else None
        if not raw:
            raise SourceError("cannot read the domain controller's invocationId")
        return guid_text(bytes(raw[0]))
