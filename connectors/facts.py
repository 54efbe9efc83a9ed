"""Helpers every fact class uses: the digest, the shared-string normalisers and the checks of a record's values.

Every value from a source is checked once, where its fact is made (``convert``), against the limits of the store
(:mod:`connectors.limits`): a record that fails becomes a ``connectors.base.Invalid``, never a row the database refuses.

A full read keeps 400,000 facts in memory: where the normalised form equals what the source sent (the usual
case), the fact shares the record's string instead of holding a copy.
"""

from __future__ import annotations

import hashlib
import re

from connectors.emails import email_key


def digest(*parts: object) -> str:
    """The stored digest of a fact's fields (a stored format: keep it stable)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def norm_key(key: str) -> str:
    """A GUID or pkid, lower-case and without braces."""
    return key if key.islower() and not key.startswith("{") else key.lower().strip("{}")


def person_key(raw: str | None) -> str | None:
    """``email_key(raw)``, sharing ``raw`` when it is already the key."""
    key = email_key(raw)
    return raw if key == raw else key


# What a reader puts in place of a character its transport could not carry, so that the record holding it is
# refused rather than read wrong: the AXL reader (``connectors.axl.xml.parse_marked``) for a C0 control that
# XML 1.0 forbids. U+FDD0 is a noncharacter, reserved by Unicode for such internal use.
UNREADABLE = "\ufdd0"
_UNREADABLE_WHY = "has a character XML 1.0 forbids (a control such as ESC)"

# NUL and lone surrogates: neither database stores them (PostgreSQL refuses NUL in text and JSON; a lone surrogate
# is not UTF-8), so no stored value may carry them; nor UNREADABLE.
_NOT_STORABLE = re.compile("[\x00\ud800-\udfff\ufdd0]")

# What an identifier (record key, e-mail key) must also be free of: controls, DEL, C1 and the bidi controls and
# separators that make one shown key read as another.
_NOT_ID = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff\ufdd0]")


def id_problem(what: str, value: str | None, limit: int) -> str | None:
    """Why ``value`` cannot be an identifier (too long, a control, bidi or unstorable character, UNREADABLE), or
    None."""
    if value is None:
        return None
    if len(value) > limit:
        return f"{what} longer than {limit} characters"
    if _NOT_ID.search(value):
        return f"{what} {_UNREADABLE_WHY}" if UNREADABLE in value else f"{what} has a control or bidi character"
    return None


def text_problem(what: str, value: str | None, limit: int) -> str | None:
    """Why the store cannot hold ``value`` (too long, a NUL or a lone surrogate, UNREADABLE), or None."""
    if value is None:
        return None
    if len(value) > limit:
        return f"{what} longer than {limit} characters"
    if _NOT_STORABLE.search(value):
        return f"{what} {_UNREADABLE_WHY}" if UNREADABLE in value else f"{what} has a NUL or a lone surrogate"
    return None
