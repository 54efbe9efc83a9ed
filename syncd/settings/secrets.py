"""Secrets: where they come from (a file, an environment variable, a systemd credential, or inline in a
configuration file that only its owner can read). The type that never shows a value is
``connectors.options.Secret`` (the options models hold inline secrets in it).

Every secret read here is registered with the log redactor, so if it ever reaches a log line it shows as ``***``.
The configuration module turns :class:`SecretUnavailable` into a ``ConfigError`` carrying the key path.

A message never shows the value of a ``*_file``, ``*_env`` or ``*_credential`` key, only the key: an admin who
pastes the password itself where its variable's name or file's path belongs would otherwise see it printed (and
logged, and kept in a terminal's scrollback) by the very check that refuses it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.options import configured_secrets
from syncd.logging import register_secret

CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY"


class SecretUnavailable(Exception):
    """A configured secret cannot be read. ``key`` is the configuration key that names it (e.g. password_file)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def _strip_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def _checked(key: str, value: str, what: str) -> str:
    if not value:
        raise SecretUnavailable(key, f"{what} is empty")
    register_secret(value)
    return value


def read_secret_file(key: str, path: str | os.PathLike[str], what: str = "the file it names") -> str:
    """The file's content with one trailing newline removed. Messages say ``what`` the file is, never its path."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise SecretUnavailable(key, f"{what} does not exist") from None
    except IsADirectoryError:
        raise SecretUnavailable(key, f"{what} is a directory") from None
    except PermissionError:
        raise SecretUnavailable(key, f"{what} cannot be read: permission denied (uid {os.getuid()})") from None
    except UnicodeDecodeError:
        raise SecretUnavailable(key, f"{what} is not UTF-8 text") from None
    except OSError as e:
        raise SecretUnavailable(key, f"{what} cannot be read: {e.strerror or e}") from None
    return _checked(key, _strip_newline(text), what)


def read_secret_env(key: str, name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        raise SecretUnavailable(key, "the environment variable it names is not set")
    return _checked(key, value, "the environment variable it names")


def read_credential(key: str, name: str) -> str:
    """A systemd credential: ``$CREDENTIALS_DIRECTORY/NAME`` (LoadCredential= / SetCredential= in the unit)."""
    directory = os.environ.get(CREDENTIALS_DIRECTORY)
    if not directory:
        raise SecretUnavailable(key, f"${CREDENTIALS_DIRECTORY} is not set (a credential needs LoadCredential= "
                                     "in the systemd unit)")
    path = Path(directory) / name
    if not path.exists():
        raise SecretUnavailable(key, f"the credential it names is not in ${CREDENTIALS_DIRECTORY} ({directory})")
    return read_secret_file(key, path, "the credential it names")


def inline_refusal(config_path: str | os.PathLike[str] | None) -> str | None:
    """Why an inline secret in ``config_path`` is refused, or None when the file is private to its owner.

    A configuration that did not come from a file (embedded defaults, tests) has no permissions to check.
    """
    if config_path is None:
        return None
    try:
        mode = stat.S_IMODE(os.stat(config_path).st_mode)
    except OSError as e:
        return f"cannot check the permissions of {config_path}: {e.strerror or e}"
    if mode & 0o077:
        return f"inline secret in a file readable by group or others (mode {mode:04o})"
    return None


def lookup(spec: Any, field: str, config_path: str | os.PathLike[str] | None) -> str:
    """Read the secret ``field`` of ``spec`` from whichever place it names (exactly one must be set)."""
    present = configured_secrets(spec, field)
    if len(present) != 1:
        alternatives = f"{field}_file, {field}_env, {field}_credential"
        if hasattr(spec, field):
            alternatives += f" or {field}"
        raise SecretUnavailable(field, f"set exactly one of {alternatives}")
    key = present[0]
    value = getattr(spec, key)
    if key == f"{field}_file":
        return read_secret_file(key, value)
    if key == f"{field}_env":
        return read_secret_env(key, value)
    if key == f"{field}_credential":
        return read_credential(key, value)
    refusal = inline_refusal(config_path)
    if refusal:
        raise SecretUnavailable(key, f"{refusal}; use {field}_file, {field}_env or {field}_credential, or chmod 600")
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return _checked(key, text, f"inline {field}")
