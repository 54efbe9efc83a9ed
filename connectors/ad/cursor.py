"""The AD source cursor: a JSON dict the store keeps between runs.

``{"v": 1, "mode": "dirsync"|"usn", "scope": <digest of base DNs, filter, host group>, "dc": <URL read from>,
"cookie": <base64 DirSync cookie>, "dc_service": <dsServiceName>, "invocation_id": <uuid>, "usn": <int>,
"expiry_checked": <FILETIME of the last run's now>, "eligible": <base64 of the sorted 16-byte GUIDs> | null}``

The eligible set is kept as packed GUIDs (16 bytes each, about 21 bytes of base64): 10,000 host-group members
take about 210 KB, half of a JSON list of GUID strings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from connectors.ad.options import AdOptions
from connectors.ad.values import guid_raw, guid_text

VERSION = 1


def scope_digest(opts: AdOptions) -> str:
    """What a cursor depends on: read with other base DNs, filter or host group, it must not be reused."""
    key = json.dumps([sorted(b.lower() for b in opts.base_dns), opts.filter, opts.host_group.lower()])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def pack_guids(guids: set[str] | None) -> str | None:
    if guids is None:
        return None
    return base64.b64encode(b"".join(guid_raw(g) for g in sorted(guids))).decode("ascii")


def unpack_guids(text: str | None) -> set[str] | None:
    if text is None:
        return None
    raw = base64.b64decode(text, validate=True)
    if len(raw) % 16:
        raise ValueError("eligible set is not a whole number of GUIDs")
    return {guid_text(raw[i:i + 16]) for i in range(0, len(raw), 16)}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def invalid_reason(cursor: dict[str, Any], opts: AdOptions) -> str | None:
    """Why a stored cursor cannot drive an incremental read (None: it can)."""
    try:
        if cursor.get("v") != VERSION:
            return "cursor from another version"
        if cursor.get("mode") != opts.mode:
            return f"cursor is for mode {cursor.get('mode')!r}, configured {opts.mode!r}"
        if cursor.get("scope") != scope_digest(opts):
            return "base DNs, filter or host group changed"
        if bool(opts.host_group) != (cursor.get("eligible") is not None):
            return "host group changed"
        unpack_guids(cursor.get("eligible"))
        if not isinstance(cursor.get("expiry_checked"), int):
            return "cursor lacks the expiry check time"
        if opts.mode == "dirsync":
            unb64(str(cursor["cookie"]))
        else:
            int(cursor["usn"])
            str(cursor["dc_service"])
            str(cursor["invocation_id"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return f"cursor unreadable ({type(exc).__name__})"
    return None
