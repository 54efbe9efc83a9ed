"""``[cwms]``: the one CWMS site, reached over its XML API (DESIGN.md section 12). Not a ``[[sources.*]]`` table
(CWMS is read for drift and written to, not a source of people), so it has no ``name``; the password keys are the
sources' (exactly one of password_file, password_env, password_credential or password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from connectors.options import (
    Bool,
    Float,
    Int,
    OptPath,
    PasswordOptions,
    field_issue,
)

MAX_PAGE = 500
"""LstsummaryUser's largest ``maximumNum`` (reference section 5)."""


class CwmsOptions(PasswordOptions):
    """The CWMS site. The password, once resolved, shows as ``***`` in repr and logs."""

    checked_files: ClassVar[tuple[str, ...]] = ("ca_file",)

    url: str
    """The XML API endpoint, ``https://SITE/WBXService/XMLService``."""
    site_name: str = Field(min_length=1)
    username: str = Field(min_length=1)
    """A site administrator's webExID."""
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
        if urlsplit(self.url).scheme == "http" and not self.insecure:
            raise field_issue("url", "plain http sends the site administrator's password in clear text: use https, "
                                     "or set insecure = true (test setups only)")
        return self

    def owner(self) -> str:
        return "cwms"


@dataclass(frozen=True)
class Tuning:
    """Timings that are not configuration keys (tests shorten them)."""

    backoff_base: float = 1.0       # seconds; doubles per attempt, with jitter
    backoff_cap: float = 30.0       # seconds; the longest single wait
    throttle_wait: float = 60.0     # seconds after "API Rate Limit Reached" (000045): CWMS's penalty window
    retry_budget: float = 300.0     # seconds one client may spend retrying in all (waits and retried requests)


DEFAULT_TUNING = Tuning()
