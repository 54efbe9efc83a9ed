"""No credentials in a URL: every URL key of the configuration (``url``, ``urls``, ``*_url``, ``*_urls``, in any
table) is refused when it carries a password (``user:password@host``), and, except ``database.url``, a user
name too. A source names its user and password in keys of their own (``username``/``bind_dn`` and
``password_file``, ``password_env`` or ``password_credential``); PostgreSQL's role stays in the database URL
(``postgresql+psycopg://syncd@db/syncd``); libpq reads its password from ~/.pgpass, ``$PGPASSFILE`` or
``$PGPASSWORD``.

The check runs on the parsed TOML before the models validate it, and hands them the URL without its user
information, so that no validator can quote the password in a message of its own; the refusal names the key,
never the value. It goes by key name rather than by model so that a URL key added later is covered too.

``alerts.urls`` is the exception: apprise URLs carry their credentials by design (``mailto://user:pass@host``,
``?to=admin@example.com``), so they are secrets themselves, checked by alert_urls.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from syncd.settings.keys import key_path

# SQLAlchemy's own reading of a URL (sqlalchemy.engine.url._parse_url): a password is whatever follows the
# user's colon up to an "@", slashes included; an "@" after a path's first slash is part of the path.
_DATABASE_PASSWORD = re.compile(r"[\w+]+://(?P<user>[^:/]*):[^@]*@")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

Loc = tuple[str | int, ...]


def _is_url_key(key: str) -> bool:
    return key in ("url", "urls") or key.endswith(("_url", "_urls"))


def _problem(loc: Loc, value: str) -> tuple[str, str] | None:
    """Why ``value`` at ``loc`` is refused and the URL without its credentials, or None."""
    if loc == ("database", "url"):
        m = _DATABASE_PASSWORD.match(value)
        if not m:
            return None
        stripped = value[:value.index("://") + 3] + m.group("user") + "@" + value[m.end():]
        return ("holds a password (user:password@; the value is not shown): keep only the user in the URL and "
                "let libpq read the password from ~/.pgpass, $PGPASSFILE or $PGPASSWORD", stripped)
    scheme = _SCHEME.match(value)
    if scheme is None or "@" not in value[scheme.end():]:
        return None
    # Everything up to the last "@" goes: a password may itself hold "@", "/", "?" or "#".
    stripped = scheme.group(0) + value.rsplit("@", 1)[1]
    return ("holds a user name or password (user:password@; the value is not shown): give them in the source's "
            "own keys (username or bind_dn, and password_file, password_env or password_credential)", stripped)


def _strings(loc: Loc, value: Any) -> list[tuple[Loc, str]]:
    if isinstance(value, str):
        return [(loc, value)]
    if isinstance(value, list):
        return [((*loc, i), v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def without_credentials(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[tuple[str, str]]]:
    """``data`` with the user information taken out of its URLs, and a refusal (key path, message) for each."""
    found: list[tuple[Loc, str, str]] = []

    def walk(node: Any, loc: Loc) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if isinstance(key, str) and _is_url_key(key) and (*loc, key) != ("alerts", "urls"):
                    found.extend((at, *problem) for at, url in _strings((*loc, key), value)
                                 if (problem := _problem(at, url)))
                else:
                    walk(value, (*loc, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, (*loc, i))

    walk(data, ())
    if not found:
        return data, []
    clean: Any = copy.deepcopy(dict(data))
    for at, _, stripped in found:
        parent = clean
        for part in at[:-1]:
            parent = parent[part]
        parent[at[-1]] = stripped
    return clean, [(key_path(at), message) for at, message, _ in found]
