"""Decoding AD attribute values (raw bytes as the server sent them) into :class:`AdUser` fields.

The connector reads ``raw_attributes`` rather than ldap3's formatted values: the formatting depends on whether a
schema was loaded, and raw bytes are what AD defines (GUIDs little-endian, FILETIMEs as decimal text).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from ldap3.utils.dn import parse_dn

from connectors.ad.records import AdUser

PERSON_FILTER = "(&(objectCategory=person)(objectClass=user))"
# Tombstones lose objectCategory but keep objectClass; computers are users too, so exclude them.
USER_CLASS_FILTER = "(&(objectClass=user)(!(objectClass=computer)))"
IN_CHAIN = "1.2.840.113556.1.4.1941"
USER_ATTRIBUTES = [
    "objectGUID", "sAMAccountName", "userPrincipalName", "mail", "userAccountControl", "accountExpires",
    "whenChanged", "uSNChanged",
]
TOMBSTONE_ATTRIBUTES = ["objectGUID", "sAMAccountName", "isDeleted", "lastKnownParent", "whenChanged", "uSNChanged"]

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
NEVER_EXPIRES = {0, 0x7FFFFFFFFFFFFFFF}

RawAttributes = Mapping[str, Sequence[bytes]]


def guid_text(raw: bytes) -> str:
    """objectGUID bytes (little-endian fields) -> canonical lower-case 8-4-4-4-12 text."""
    return str(uuid.UUID(bytes_le=bytes(raw)))


def guid_raw(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


def filetime_to_datetime(value: int) -> datetime | None:
    """accountExpires: 100 ns ticks since 1601-01-01 UTC; 0 and 2^63-1 mean never (None)."""
    if value in NEVER_EXPIRES or value < 0:
        return None
    try:
        return FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        return None   # beyond datetime.max: as good as never


def datetime_to_filetime(dt: datetime) -> int:
    delta = dt.astimezone(UTC) - FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


def generalized_time(raw: bytes) -> datetime | None:
    """whenChanged, e.g. ``20261128024512.0Z``."""
    text = raw.decode("ascii", "replace").rstrip("Z").split(".")[0]
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _get(attrs: RawAttributes, name: str) -> bytes | None:
    values = attrs.get(name)
    if not values:
        # ldap3 keeps the server's spelling of the attribute name; AD answers in its schema's case.
        for key, vals in attrs.items():
            if key.lower() == name.lower() and vals:
                return bytes(vals[0])
        return None
    return bytes(values[0])


def _text(attrs: RawAttributes, name: str) -> str | None:
    raw = _get(attrs, name)
    return None if raw is None else raw.decode("utf-8", "replace")


def _int(attrs: RawAttributes, name: str) -> int | None:
    raw = _get(attrs, name)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return None


def entry_guid(attrs: RawAttributes) -> str | None:
    raw = _get(attrs, "objectGUID")
    return None if raw is None or len(raw) != 16 else guid_text(raw)


def is_deleted(attrs: RawAttributes) -> bool:
    raw = _get(attrs, "isDeleted")
    return raw is not None and raw.upper() == b"TRUE"


def user_from_entry(dn: str, attrs: RawAttributes, in_host_group: bool | None) -> AdUser | None:
    """A live user entry -> AdUser (None when the entry has no usable objectGUID)."""
    guid = entry_guid(attrs)
    if guid is None:
        return None
    expires = _int(attrs, "accountExpires")
    changed = _get(attrs, "whenChanged")
    return AdUser(
        guid=guid,
        sam_account_name=_text(attrs, "sAMAccountName"),
        user_principal_name=_text(attrs, "userPrincipalName"),
        mail=_text(attrs, "mail"),
        user_account_control=_int(attrs, "userAccountControl"),
        account_expires=None if expires is None else filetime_to_datetime(expires),
        deleted=False,
        in_host_group=in_host_group,
        when_changed=None if changed is None else generalized_time(changed),
        usn_changed=_int(attrs, "uSNChanged"),
        dn=dn,
    )


def tombstone(guid: str, *, sam: str | None = None, host_group: bool = False, dn: str | None = None,
              usn: int | None = None) -> AdUser:
    """A deleted (or gone-from-scope) account. Without ``sam`` it can be matched by GUID only."""
    return AdUser(guid=guid, sam_account_name=sam, user_principal_name=None, mail=None, user_account_control=None,
                  account_expires=None, deleted=True, in_host_group=False if host_group else None, dn=dn,
                  usn_changed=usn)


def tombstone_from_entry(dn: str, attrs: RawAttributes, base_dns: Iterable[str], host_group: bool) -> AdUser | None:
    """A tombstone read with Show Deleted. Its sAMAccountName is kept for matching only when its last known
    parent lies inside the configured base DNs; otherwise it may be matched by GUID alone."""
    guid = entry_guid(attrs)
    if guid is None:
        return None
    parent = _text(attrs, "lastKnownParent")
    in_scope = parent is not None and under_any(strip_extended_dn(parent), base_dns)
    return tombstone(guid, sam=_text(attrs, "sAMAccountName") if in_scope else None, host_group=host_group, dn=dn,
                     usn=_int(attrs, "uSNChanged"))


def strip_extended_dn(dn: str) -> str:
    """``<GUID=..>;<SID=..>;CN=x,DC=y`` -> ``CN=x,DC=y``."""
    while dn.startswith("<"):
        end = dn.find(">;")
        if end < 0:
            break
        dn = dn[end + 2:]
    return dn


def _dn_key(dn: str) -> tuple[tuple[str, str], ...]:
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except Exception:
        return (("", dn.strip().lower()),)
    return tuple((a.strip().lower(), v.strip().lower()) for a, v, _ in parts)


def under(dn: str, base: str) -> bool:
    """Whether ``dn`` is ``base`` or lies below it (RDN-wise, case-insensitive)."""
    d, b = _dn_key(dn), _dn_key(base)
    return len(d) >= len(b) and d[len(d) - len(b):] == b


def under_any(dn: str, bases: Iterable[str]) -> bool:
    return any(under(dn, b) for b in bases)
