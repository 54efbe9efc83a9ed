"""What every source's options model shares: the pydantic base, field types, key-path errors, secret fields.

Each source type has ONE options model (``connectors/<type>/options.py``): the configuration loader validates a
``[[sources.<type>]]`` table with it and the connector takes the validated model. Validators report problems at
precise keys by raising :class:`FieldIssues`; the loader turns them into ``sources.<type>[i].<key>: ...``.

Conventions (DESIGN.md 9a): an empty string means "not set" for optional strings and paths; a relative path is
relative to the configuration file's folder (passed as ``base_dir`` in the validation context).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, ClassVar, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PrivateAttr,
    SecretStr,
    Strict,
    ValidationInfo,
    model_validator,
)

Issue = tuple[tuple[str | int, ...], str]


class FieldIssues(ValueError):
    """Raised by cross-field validators to report problems at precise keys below the model being validated."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(msg for _, msg in issues))
        self.issues = issues


def field_issue(key: str, message: str) -> FieldIssues:
    return FieldIssues([((key,), message)])


# systemd credential names: no slashes, not "." or "..".
CREDENTIAL_NAME = re.compile(r"^(?!\.\.?$)[A-Za-z0-9_.@:+-]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SECRET_PLACES = ("file", "env", "credential")


class Secret(SecretStr):
    """A string that shows as ``***`` in str(), repr() and serialisation; ``get_secret_value()`` reveals it."""

    def _display(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "'***'"


def configured_secrets(spec: Any, field: str) -> list[str]:
    """The keys among ``FIELD_file``, ``FIELD_env``, ``FIELD_credential`` and ``FIELD`` (inline) that are set."""
    keys = [f"{field}_{s}" for s in SECRET_PLACES] + [field]
    return [k for k in keys if getattr(spec, k, None) not in (None, "")]


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


def _relative_to_config(value: str | None, info: ValidationInfo) -> str | None:
    """A relative path is relative to the configuration file's folder (paths stay ``str``, as consumers want)."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError("empty path")
    base = (info.context or {}).get("base_dir")
    if base is not None and not os.path.isabs(value):
        return os.path.join(base, value)
    return value


def _env_name(value: str | None) -> str | None:
    if value is not None and not ENV_NAME.fullmatch(value):
        # The value is not shown: a secret pasted here by mistake must not reach the error line or a log.
        raise ValueError("does not look like an environment variable's name (letters, digits and _, not starting "
                         "with a digit); the value is not shown (it may be the secret itself)")
    return value


def _credential_name(value: str | None) -> str | None:
    if value is not None and not CREDENTIAL_NAME.fullmatch(value):
        raise ValueError("does not look like a systemd credential's name (letters, digits and _ . @ : + -, no slash); "
                         "the value is not shown (it may be the secret itself)")
    return value


def _source_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(f"invalid source name {value!r}: use lower-case letters, digits, '-' and '_', "
                         "starting with a letter or digit")
    return value


Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Float = Annotated[float, Strict()]          # strict float still accepts TOML integers
OptStr = Annotated[str | None, BeforeValidator(_empty_to_none)]
OptPath = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_relative_to_config)]
ConfigPath = Annotated[str, AfterValidator(_relative_to_config)]
EnvName = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_env_name)]
CredentialName = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_credential_name)]
OptSecret = Annotated[Secret | None, BeforeValidator(_empty_to_none)]
SourceName = Annotated[str, AfterValidator(_source_name)]

MATCH_ORDER = ("mail", "userid")


def http_url(value: str, what: str, example: str) -> str:
    """``value`` when it is an http(s) URL with a host and a valid port; else ValueError naming ``what`` it should
    be, with an ``example``."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"invalid port in {value!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"not {what}: {value!r} (e.g. {example})")
    return value


def refuse_plain_http(url: str, insecure: bool, password: str) -> None:
    """The key issue for a plain-http ``url`` without ``insecure``: it would send ``password`` in clear text."""
    if urlsplit(url).scheme == "http" and not insecure:
        raise field_issue("url", f"plain http sends {password} in clear text: use https, or set insecure = true "
                                 "(test setups only)")


class Section(BaseModel):
    """A configuration table: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)
    checked_files: ClassVar[tuple[str, ...]] = ()
    """Keys naming files the table needs; ``syncd config check`` makes sure each is readable."""

    def missing_files(self) -> str | None:
        """Why a file these options name cannot be used now, or None (checked again when a client is built)."""
        for key in self.checked_files:
            path = getattr(self, key)
            if path and not os.path.isfile(path):
                return f"{key} {path!r} does not exist"
        return None


class SourceOptions(Section):
    """One ``[[sources.<type>]]`` table. ``name`` names the source in the journal, cursors and ``--source``."""

    name: SourceName

    _key_path: str = PrivateAttr(default="")

    @property
    def key_path(self) -> str:
        """Where this table sits in the file, e.g. ``sources.cucm[0]``."""
        return self._key_path

    def holds(self) -> str | None:
        """The source type whose records this source yields, when not its own (a file of CUCM users)."""
        return None

    def match_order(self) -> tuple[str, ...]:
        """How accounts of this source are matched to people, in order (used where its records are accounts)."""
        return MATCH_ORDER


class PasswordOptions(Section):
    """A table with a password, named by exactly one of password_file, password_env, password_credential or
    password (inline). Syncd reads the secret and hands the client :meth:`with_password`'s copy."""

    password_file: OptPath = None
    password_env: EnvName = None
    password_credential: CredentialName = None
    password: OptSecret = None

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        present = configured_secrets(self, "password")
        if len(present) != 1:
            found = f" (found {', '.join(present)})" if present else ""
            raise field_issue("password", "set exactly one of password_file, password_env, password_credential "
                              f"or password{found}")
        return self

    def with_password(self, value: str) -> Self:
        """A copy holding the resolved password inline (and no other password key)."""
        return self.model_copy(update={"password": Secret(value), "password_file": None, "password_env": None,
                                       "password_credential": None})

    def secret(self) -> str:
        """The resolved password; ValueError when the caller did not resolve it (see :meth:`with_password`)."""
        if self.password is None:
            raise ValueError(f"{self.owner()}: the password was not resolved (password_file, password_env or "
                             "password_credential is read by the caller)")
        return self.password.get_secret_value()

    def owner(self) -> str:
        """Who the password is for, in messages."""
        return type(self).__name__


class SecretOptions(SourceOptions, PasswordOptions):
    """A source with a password (:class:`PasswordOptions`)."""

    def with_password(self, value: str) -> Self:
        copy = super().with_password(value)
        copy._key_path = self._key_path
        return copy

    def owner(self) -> str:
        return self.name
