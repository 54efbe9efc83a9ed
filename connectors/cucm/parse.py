"""lxml readers for AXL response payloads (already safely parsed by :mod:`connectors.axl.xml`).

They walk the elements directly (no zeep objects): this is the bulk path, so it builds slot records and nothing
else. Row/column element names are unqualified, as AXL's ``elementFormDefault="unqualified"`` makes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from connectors.records import CucmUser

_TRUE = frozenset(("t", "true", "1"))
_FALSE = frozenset(("f", "false", "0"))


def norm_uuid(value: str | None) -> str:
    """AXL ``{UPPER-CASE}`` and SQL ``lower-case`` uuids in one form: lower-case, no braces."""
    return (value or "").strip().strip("{}").lower()


def _status(text: str | None) -> int:
    try:
        return int(text) if text else 0
    except ValueError:
        return 0            # unknown: not active (CucmUser.active is status == 1)


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


def sql_rows(payload: etree._Element) -> Iterator[dict[str, str | None]]:
    """executeSQLQueryResponse rows as ``{column: text}`` (NULL and empty both read as None)."""
    ret = _return(payload)
    if ret is None:
        return
    for row in ret:
        yield {c.tag.lower(): (c.text or None) for c in row if isinstance(c.tag, str)}


def users_from_sql(payload: etree._Element) -> Iterator[CucmUser]:
    """Users from an ``enduser`` SELECT (see :mod:`connectors.cucm.sql` for the columns)."""
    ret = _return(payload)
    if ret is None:
        return
    for row in ret:
        f: dict[str, str | None] = {}
        for c in row:
            f[c.tag] = c.text
        yield CucmUser(
            uuid=norm_uuid(f.get("pkid")),
            userid=f.get("userid") or "",
            mailid=f.get("mailid") or None,
            firstname=f.get("firstname") or None,
            lastname=f.get("lastname") or None,
            status=_status(f.get("status")),
            ldap_synced=sql_ldap_flag(f.get("fkdirectorypluginconfig"), f.get("islocaluser")),
        )


def users_from_list(payload: etree._Element) -> Iterator[CucmUser]:
    """Users from a listUserResponse page; the LDAP flag is unknown (None) here: LUser cannot tell."""
    ret = _return(payload)
    if ret is None:
        return
    for u in ret:
        f: dict[str, str | None] = {}
        for c in u:
            f[c.tag] = c.text
        yield CucmUser(
            uuid=norm_uuid(u.get("uuid")),
            userid=f.get("userid") or "",
            mailid=f.get("mailid") or None,
            firstname=f.get("firstName") or None,
            lastname=f.get("lastName") or None,
            status=_status(f.get("status")),
            ldap_synced=None,
        )


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
