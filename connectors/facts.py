"""Helpers every fact class uses: the digest and the shared-string normalisers.

A full read keeps 400,000 facts in memory: where the normalised form equals what the source sent (the usual
case), the fact shares the record's string instead of holding a copy.
"""

from __future__ import annotations

import hashlib

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
