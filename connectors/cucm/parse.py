"""lxml readers for AXL response payloads (already safely parsed by :mod:`connectors.axl.xml`).

They walk the elements directly (no zeep objects): this is the bulk path, so it builds slot records and nothing
else. Row/column element names are unqualified, as AXL's ``elementFormDefault="unqualified"`` makes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from connectors.cucm.records import CucmUser

_TRUE = frozenset(("t", "true", "1"))
_FALSE = frozenset(("f", "false", "0"))


def norm_uuid(value: str | None) -> str:
    """AXL ``{UPPER-CASE}`` and SQL ``lower-case`` uuids in one form: lower-case, no braces."""
    if not value:
        return ""
    if value[0] == "{" or value[-1] == "}" or value[0].isspace():
        value = value.strip().strip("{}")
    return value.lower()


def _status(text: str | None) -> int:
    """The status as sent; 0 when empty or not a number. Only 1 and 2 are statuses: ``CucmFact`` refuses any other
    (the user is skipped as invalid, never taken for an inactive one)."""
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def sql_ldap_flag(fk: str | None, islocal: str | None) -> bool | None:
    """LDAP-synchronized from ``enduser.fkdirectorypluginconfig`` (set: LDAP) and ``islocaluser`` ('t': local)."""
    if fk:
        return True
    if islocal is not None:
        v = islocal.strip().lower()
        if v in _TRUE:
            return False
        if v in _FALSE:
            return True
    return False            # no directory reference: a local user


def _return(payload: etree._Element) -> etree._Element | None:
    return payload.find("return")


def page_extent(payload: etree._Element) -> tuple[int, etree._Element | None]:
    """How many rows or users a page holds, and the last one (None when empty)."""
    ret = _return(payload)
    if ret is None or len(ret) == 0:
        return 0, None
    return len(ret), ret[-1]


def sql_rows(payload: etree._Element) -> Iterator[dict[str, str | None]]:
    """executeSQLQueryResponse rows as ``{column: text}`` (NULL and empty both read as None)."""
    ret = _return(payload)
    if ret is None:
        return
    for row in ret:
        yield {c.tag.lower(): (c.text or None) for c in row if isinstance(c.tag, str)}


def _sql_user(f: dict[str, str | None]) -> CucmUser:
    return CucmUser(
        uuid=norm_uuid(f.get("pkid")),
        userid=f.get("userid") or "",
        mailid=f.get("mailid") or None,
        firstname=f.get("firstname") or None,
        lastname=f.get("lastname") or None,
        status=_status(f.get("status")),
        ldap_synced=sql_ldap_flag(f.get("fkdirectorypluginconfig"), f.get("islocaluser")),
    )


def users_from_sql(payload: etree._Element, columns: tuple[str, ...]) -> Iterator[CucmUser]:
    """Users from an ``enduser`` SELECT of ``columns`` (see :mod:`connectors.cucm.sql`).

    The bulk path: a row whose columns are exactly ``columns`` in order (checked on a page's first row, then by
    count) is read by position, without asking lxml for each tag; any other row is read by tag name.
    """
    ret = _return(payload)
    if ret is None:
        return
    n = len(columns)
    pos = {c: i for i, c in enumerate(columns)}
    ip, iu, im, ifn, iln, ist, ifk, iloc = (pos[c] for c in (
        "pkid", "userid", "mailid", "firstname", "lastname", "status", "fkdirectorypluginconfig", "islocaluser"))
    checked = False
    for row in ret:
        if len(row) == n and (checked or tuple(c.tag for c in row) == columns):
            checked = True
            v = [c.text for c in row]
            yield CucmUser(norm_uuid(v[ip]), v[iu] or "", v[im] or None, v[ifn] or None, v[iln] or None,
                           _status(v[ist]), sql_ldap_flag(v[ifk], v[iloc]))
        else:
            yield _sql_user({c.tag.lower(): c.text for c in row if isinstance(c.tag, str)})


def _list_user(uuid: str | None, f: dict[str, str | None]) -> CucmUser:
    return CucmUser(
        uuid=norm_uuid(uuid),
        userid=f.get("userid") or "",
        mailid=f.get("mailid") or None,
        firstname=f.get("firstName") or None,
        lastname=f.get("lastName") or None,
        status=_status(f.get("status")),
        ldap_synced=None,
    )


LIST_FIELDS = ("firstName", "lastName", "userid", "mailid", "status")   # LUser schema order


def users_from_list(payload: etree._Element) -> Iterator[CucmUser]:
    """Users from a listUserResponse page asked for :data:`LIST_FIELDS`; the LDAP flag is unknown (None) here:
    LUser cannot tell. Rows with exactly those tags are read by position, as in :func:`users_from_sql`."""
    ret = _return(payload)
    if ret is None:
        return
    checked = False
    for u in ret:
        if len(u) == 5 and (checked or tuple(c.tag for c in u) == LIST_FIELDS):
            checked = True
            first, last, userid, mail, status = [c.text for c in u]
            yield CucmUser(norm_uuid(u.get("uuid")), userid or "", mail or None, first or None, last or None,
                           _status(status), None)
        else:
            yield _list_user(u.get("uuid"), {c.tag: c.text for c in u if isinstance(c.tag, str)})


def user_from_get(payload: etree._Element, *, ldap_flag: bool) -> CucmUser | None:
    """The user of a getUserResponse; ``ldap_flag``: read ``ldapDirectoryName`` (empty = local user)."""
    ret = _return(payload)
    u = ret.find("user") if ret is not None else None
    if u is None:
        return None
    f = {c.tag: c.text for c in u if isinstance(c.tag, str)}
    return CucmUser(
        uuid=norm_uuid(u.get("uuid")),
        userid=f.get("userid") or "",
        mailid=f.get("mailid") or None,
        firstname=f.get("firstName") or None,
        lastname=f.get("lastName") or None,
        status=_status(f.get("status")),
        ldap_synced=bool((f.get("ldapDirectoryName") or "").strip()) if ldap_flag else None,
    )


@dataclass(slots=True)
class Change:
    """One listChange entry for a User."""

    id: int
    action: str                  # a | u | r
    uuid: str                    # normalised
    do_get: bool
    tags: dict[str, str | None] = field(default_factory=dict)


@dataclass(slots=True)
class ChangePage:
    queue_id: str | None
    first_change_id: int | None
    last_change_id: int | None
    next_start_change_id: int | None
    changes: list[Change]


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def change_page(payload: etree._Element, object_type: str = "User") -> ChangePage:
    """Read a listChangeResponse: queue info and the changes to ``object_type`` objects."""
    qi = payload.find("queueInfo")
    q = {c.tag: c.text for c in qi if isinstance(c.tag, str)} if qi is not None else {}
    out: list[Change] = []
    changes = payload.find("changes")
    for ch in changes if changes is not None else ():
        ctype = ch.get("type")
        if ctype and ctype.lower() != object_type.lower():
            continue
        f = {c.tag: c for c in ch if isinstance(c.tag, str)}
        tags_el = f.get("changedTags")
        tags = {t.get("name", ""): t.text for t in tags_el} if tags_el is not None else {}
        do_get = f.get("doGet")
        out.append(Change(
            id=(_int(f["id"].text) if "id" in f else None) or 0,
            action=((f["action"].text if "action" in f else "") or "").strip().lower(),
            uuid=norm_uuid(ch.get("uuid")),
            do_get=(do_get is not None and (do_get.text or "").strip().lower() in _TRUE),
            tags=tags,
        ))
    return ChangePage(
        queue_id=q.get("queueId"),
        first_change_id=_int(q.get("firstChangeId")),
        last_change_id=_int(q.get("lastChangeId")),
        next_start_change_id=_int(q.get("nextStartChangeId")),
        changes=out,
    )
