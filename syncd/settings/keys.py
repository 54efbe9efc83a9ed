"""Configuration errors and key paths: every problem is reported with its key path (``sources.cucm[0].page_size``)
in a single :class:`ConfigError` whose text is one line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from pydantic import ValidationError

from connectors.options import FieldIssues


class ConfigError(Exception):
    """The configuration is unusable. ``errors`` is a list of ``(key_path, message)``; ``str()`` is one line:
    ``config /etc/syncd/syncd.toml: sources.cucm[0].url: ...; safety.max_deactivation_ratio: ...``."""

    def __init__(self, errors: Iterable[tuple[str, str]] | str, path: str | None = None) -> None:
        self.errors: list[tuple[str, str]] = [("", errors)] if isinstance(errors, str) else list(errors)
        self.path = path
        super().__init__(str(self))

    def __str__(self) -> str:
        items = "; ".join(f"{key}: {msg}" if key else msg for key, msg in self.errors)
        head = f"config {self.path}" if self.path else "config"
        return " ".join(f"{head}: {items}".split())


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(loc: Iterable[str | int]) -> str:
    """``("sources", "cucm", 0, "url")`` -> ``sources.cucm[0].url``; a key that is not a bare TOML key (an unknown
    ``"my key"``, or the empty ``""``) is quoted as TOML quotes it, so the path still points somewhere."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _BARE_KEY.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            out += ("." if out else "") + name
    return out


# What a key naming a secret's place (password_env, token_file, ...) must hold, said in place of its validator's
# message, which may quote the value: that can be the secret itself, put there by mistake.
_SECRET_PLACE = re.compile(r"\w+_(env|credential|file)")
_PLACE_EXPECTED = {
    "env": "an environment variable's name (letters, digits and _, not starting with a digit)",
    "credential": "a systemd credential's name (letters, digits and _ . @ : + -, no slash)",
    "file": "a file's path",
}


def _secret_place_message(last: str | int, value: object, msg: str) -> str | None:
    """The message for a secret's place whose validator's message ``msg`` quotes its ``value``, else None."""
    m = _SECRET_PLACE.fullmatch(last) if isinstance(last, str) else None
    if m is None or not isinstance(value, str) or not value.strip() or \
            (value not in msg and repr(value)[1:-1] not in msg):
        return None
    return f"does not look like {_PLACE_EXPECTED[m.group(1)]}; the value is not shown (it may be the secret itself)"


_TOML_TYPES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean", dict: "a table",
               list: "an array"}


def pydantic_errors(exc: ValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        # Union members add tags such as "literal['a']" or "function-after[...]" to loc: they are not keys.
        # An unknown key is the last part of its loc, spelled by the user (it may well contain "[" or "(").
        unknown = err["loc"][-1:] if err["type"] == "extra_forbidden" else ()
        parts = err["loc"][:-1] if unknown else err["loc"]
        loc = tuple(p for p in parts if isinstance(p, int) or not re.search(r"[\[(]", str(p))) + unknown
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldIssues):
            out.extend((key_path(loc + sub), msg) for sub, msg in cause.issues)
            continue
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = "unknown key"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "value_error":
            msg = err["msg"].removeprefix("Value error, ")
        else:
            msg = err["msg"]
            if kind.endswith("_type") and "input" in err:
                got = _TOML_TYPES.get(type(err["input"]), type(err["input"]).__name__)
                msg = f"{msg}, got {got}"
        if loc:
            msg = _secret_place_message(loc[-1], err.get("input"), msg) or msg
        out.append((key_path(loc), msg))
    return out

