"""The DirSync request control (1.2.840.113556.1.4.841), encoded correctly.

ldap3's ``dir_sync_control`` turns the flags into a signed value with ``ctypes.c_long``, which is 64 bits on
Linux: with INCREMENTAL_VALUES (0x80000000) the Flags INTEGER is then sent as 5 bytes (``02 05 00 80 00 08 00``),
which Windows AD rejects (ldap3 #642) and Samba happens to accept. Here the flags are reduced to a signed 32-bit
value, so every flag combination encodes in at most 4 bytes.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

from ldap3.protocol.controls import build_control
from ldap3.protocol.microsoft import DirSyncControlRequestValue
from ldap3.protocol.rfc4511 import Control
from pyasn1.type.univ import OctetString

DIRSYNC_OID = "1.2.840.113556.1.4.841"
OBJECT_SECURITY = 0x00000001
ANCESTORS_FIRST_ORDER = 0x00000800
INCREMENTAL_VALUES = 0x80000000
MAX_BYTES = 0x7FFFFFFF


def signed32(flags: int) -> int:
    return ctypes.c_int32(flags & 0xFFFFFFFF).value


def dirsync_control(cookie: bytes | None, flags: int = OBJECT_SECURITY | ANCESTORS_FIRST_ORDER,
                    max_bytes: int = MAX_BYTES) -> Control:
    """The control as ldap3 sends it (critical: a DC that ignored it would return a full search)."""
    value = DirSyncControlRequestValue()
    value.setComponentByName("Flags", signed32(flags))
    value.setComponentByName("MaxBytes", max_bytes)
    value.setComponentByName("Cookie", OctetString(cookie or b""))
    return build_control(DIRSYNC_OID, True, value)


@dataclass(frozen=True, slots=True)
class DirSyncPage:
    more_results: bool
    cookie: bytes


def dirsync_response(result: dict[str, Any]) -> DirSyncPage | None:
    """The DirSync response control of a search result, or None when the server sent none."""
    control = (result.get("controls") or {}).get(DIRSYNC_OID)
    if not control:
        return None
    value = control["value"]
    return DirSyncPage(bool(value["more_results"]), bytes(value["cookie"]))
