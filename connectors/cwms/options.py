"""``[cwms]``: the one CWMS site, reached over its XML API (DESIGN.md section 12). Not a ``[[sources.*]]`` table
(CWMS is read for drift and written to, not a source of people), so it has no ``name``; the password keys are the
sources' (exactly one of password_file, password_env, password_credential or password)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.options import (
    Bool,
    CredentialName,
    EnvName,
    Float,
    Int,
    OptPath,
    OptSecret,
    Secret,
    Section,
    configured_secrets,
    field_issue,
)

MAX_PAGE = 500
"""LstsummaryUser's largest ``maximumNum`` (reference section 5)."""


class CwmsOptions(Section):
    """The CWMS site. The password, once resolved, shows as ``***`` in repr and logs."""

    checked_files: ClassVar[tuple[str, ...]] = ("ca_file",)

    url: str
    """The XML API endpoint, ``https://SITE/WBXService/XMLService``."""
    site_name: str = Field(min_length=1)
    username: str = Field(min_length=1)
    """A site administrator's webExID."""
    password_file: OptPath = None
    password_env: EnvName = None
    password_credential: CredentialName = None
    password: OptSecret = None
    ca_file: OptPath = None
    insecure: Bool = False
    timeout: Float = Field(default=30.0, gt=0)
    """Seconds, every request (connect and read)."""
    retries: Int = Field(default=5, ge=0, le=20)
    """Attempts after the first for temporary failures, per request."""
    page_size: Int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE)
    push: Literal["off", "report", "on"] = "off"
    push_activations: Bool = False
    max_pushes: Int | None = Field(default=None, ge=0)
    """None: the safety section's ``max_deactivations`` (the settings loader fills it in)."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError(f"invalid port in {value!r}") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"not an XML API URL: {value!r} (e.g. https://cwms.example.com/WBXService/XMLService)")
        return value

    @model_validator(mode="after")
    def _checks(self) -> Self:
        present = configured_secrets(self, "password")
        if len(present) != 1:
            found = f" (found {', '.join(present)})" if present else ""
            raise field_issue("password", "set exactly one of password_file, password_env, password_credential "
                              f"or password{found}")
        if urlsplit(self.url).scheme == "http" and not self.insecure:
            raise field_issue("url", "plain http sends the site administrator's password in clear text: use https, "
                                     "or set insecure = true (test setups only)")
        return self

    def with_password(self, value: str) -> Self:
        """A copy holding the resolved password inline (and no other password key)."""
        return self.model_copy(update={"password": Secret(value), "password_file": None, "password_env": None,
                                       "password_credential": None})

    def secret(self) -> str:
        """The resolved password; ValueError when the caller did not resolve it (see :meth:`with_password`)."""
        if self.password is None:
            raise ValueError("cwms: the password was not resolved (password_file, password_env or "
                             "password_credential is read by the caller)")
        return self.password.get_secret_value()

    def missing_files(self) -> str | None:
        """Why a file these options name cannot be used now, or None."""
        for key in self.checked_files:
            path = getattr(self, key)
            if path and not os.path.isfile(path):
                return f"{key} {path!r} does not exist"
        return None


@dataclass(frozen=True)
class Tuning:
    """Timings that are not configuration keys (tests shorten them)."""

    backoff_base: float = 1.0       # seconds; doubles per attempt, with jitter
    backoff_cap: float = 30.0       # seconds; the longest single wait
    throttle_wait: float = 60.0     # seconds after "API Rate Limit Reached" (000045): CWMS's penalty window
    retry_budget: float = 300.0     # seconds one client may spend retrying in all (waits and retried requests)


DEFAULT_TUNING = Tuning()
