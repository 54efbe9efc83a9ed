"""The person key: an e-mail address in Unicode NFC, trimmed and case-folded (DESIGN.md section 11).

Facts carry it, so it lives beside them; syncd's look-alike warnings (``syncd.emails``) build on it.
"""

from __future__ import annotations

import re
import unicodedata

from connectors.limits import EMAIL

_SPACE = re.compile(r"\s")


def email_key(raw: str | None) -> str | None:
    """Return the person key of an address, or None when there is no usable address."""
    if raw is None:
        return None
    key = (raw if raw.isascii() else unicodedata.normalize("NFC", raw)).strip().casefold()
    if not key or "@" not in key or len(key) > EMAIL or _SPACE.search(key):
        return None
    return key
