"""Loading the configuration: which file (argument, ``$SYNCD_CONFIG``, ``/etc/syncd/syncd.toml``), reading its
TOML and validating it whole, so that every problem is reported at once with its key path.

Conventions: an empty string means "not set" for optional strings and paths (TOML has no null); relative paths
are relative to the configuration file's folder; durations are strings such as ``"30s"``, ``"15m"`` or
``"1h30m"``. An inline secret in a file that group or others can read is refused here, at load time, and so is
a URL that carries a user name or password (urls.py).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from syncd.settings import secrets, urls
from syncd.settings.config import Config
from syncd.settings.keys import ConfigError, pydantic_errors

DEFAULT_PATH = "/etc/syncd/syncd.toml"
ENV_VAR = "SYNCD_CONFIG"


def config_path(path: str | None = None) -> tuple[str, bool]:
    """The file to load and whether it was asked for explicitly (argument or $SYNCD_CONFIG; an empty
    $SYNCD_CONFIG counts as unset, an empty argument does not)."""
    explicit = path if path is not None else os.environ.get(ENV_VAR) or None
    return (DEFAULT_PATH if explicit is None else explicit), explicit is not None


def load_config(path: str | None = None) -> Config:
    """Load and validate the configuration.

    The file is ``path``, else ``$SYNCD_CONFIG``, else ``/etc/syncd/syncd.toml``. A missing file at the default
    location means the embedded defaults; a missing file that was asked for is an error.
    """
    file, explicit = config_path(path)
    if not file:
        raise ConfigError("an empty path names no configuration file")
    try:
        with open(file, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        if explicit:
            raise ConfigError("no such file", file) from None
        return parse_config({})
    except IsADirectoryError:
        raise ConfigError("is a directory, not a file", file) from None
    except PermissionError:
        raise ConfigError(f"permission denied (uid {os.getuid()})", file) from None
    except OSError as e:
        raise ConfigError(f"cannot read: {e.strerror or e}", file) from None
    return parse_toml(raw, file)


def parse_toml(raw: bytes | str, path: str | None = None) -> Config:
    """Validate configuration text; ``path`` (if any) is where it came from (relative paths, permissions)."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        raise ConfigError(f"not UTF-8 text (byte {e.start})", path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"invalid TOML: {e}", path) from None
    except RecursionError:      # tomllib recurses once per nesting level of arrays and inline tables
        raise ConfigError("invalid TOML: arrays or inline tables nested too deeply", path) from None
    return parse_config(data, path)


def parse_config(data: Mapping[str, Any], path: str | None = None) -> Config:
    """Validate an already parsed configuration (a dict shaped like the TOML file)."""
    base_dir = os.path.dirname(os.path.abspath(path)) if path else None
    data, errors = urls.without_credentials(data)
    try:
        config = Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as e:
        raise ConfigError(errors + pydantic_errors(e), path) from None
    config._path = path
    for key_path, table in config.password_tables():
        if table.password is None:
            continue
        refusal = secrets.inline_refusal(path)
        if refusal:
            errors.append((f"{key_path}.password", f"{refusal}; use password_file, password_env or "
                                                   "password_credential, or chmod 600"))
        else:
            from syncd.logging import register_secret

            register_secret(table.password.get_secret_value())
    if errors:
        raise ConfigError(errors, path)
    return config


def example_text() -> str:
    """The documented example configuration (``syncd config example``; ``config/syncd.toml`` is a copy)."""
    from importlib.resources import files

    return files("syncd.settings").joinpath("example.toml").read_text(encoding="utf-8")
