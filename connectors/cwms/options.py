"""``[cwms]``: the one CWMS site, reached over its XML API (DESIGN.md section 12). Not a ``[[sources.*]]`` table
(CWMS is read for drift and written to, not a source of people), so it has no ``name``; the password keys are the
sources' (exactly one of password_file, password_env, password_credential or password)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from connectors.options import (
    Bool,
    Float,
    Int,
    OptPath,
    PasswordOptions,
    http_url,
    refuse_plain_http,
)
from connectors.transport import host_port

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
        return http_url(value, "an XML API URL", "https://cwms.example.com/WBXService/XMLService")

    @model_validator(mode="after")
    def _checks(self) -> Self:
        refuse_plain_http(self.url, self.insecure, "the site administrator's password")
        return self

    def owner(self) -> str:
        return "cwms"

    @property
    def site(self) -> str:
        """How messages name the site: its siteName and host (``CWMS site cwms (cwms.example.com:443)``)."""
        return f"CWMS site {self.site_name} ({host_port(self.url)})"


@dataclass(frozen=True)
class Tuning:
    """Timings that are not configuration keys (tests shorten them)."""

    backoff_base: float = 1.0       # seconds; doubles per attempt, with jitter
    backoff_cap: float = 30.0       # seconds; the longest single wait
    throttle_wait: float = 60.0     # seconds after "API Rate Limit Reached" (000045): CWMS's penalty window
    retry_budget: float = 300.0     # seconds one client may spend retrying in all (waits and retried requests)


DEFAULT_TUNING = Tuning()
