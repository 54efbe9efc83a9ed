"""The configuration's sections other than ``[sources]`` (DESIGN.md 9a): database, reconcile, licenses, safety,
schedule, api, logging, alerts. Key names are a contract with users: add keys, rename none."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from connectors.options import (
    Bool,
    CredentialName,
    EnvName,
    Float,
    Int,
    OptPath,
    OptStr,
    Section,
    configured_secrets,
    field_issue,
)
from syncd.settings.durations import Duration, PositiveDuration, cron_trigger


class DatabaseConfig(Section):
    url: OptStr = None
    """SQLAlchemy URL. None: ``$STATE_DIRECTORY/syncd.db``, else ``./syncd.db`` (``syncd.store.db.default_url``)."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except (ArgumentError, ValueError):     # not repeated: a URL can hold a password that got past urls.py
            raise ValueError("not a database URL (e.g. sqlite:////var/lib/syncd/syncd.db or "
                             "postgresql+psycopg://syncd@db.example.com/syncd)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
        return value


class ReconcileConfig(Section):
    require_cucm: Bool = True


# The longest span any license setting adds to a time (syncd.store.limits keeps the times far enough from the
# end of the calendar for it).
MAX_DAYS = 3650


class LicensesConfig(Section):
    cwms_version: Literal["2.0", "2.5"] = "2.5"
    max_concurrent_meetings: Int | None = Field(default=None, ge=1, le=1000)
    release_hold: Duration = Field(default=timedelta(0), le=timedelta(days=MAX_DAYS))
    meeting_timeout: PositiveDuration = Field(default=timedelta(hours=24), le=timedelta(days=MAX_DAYS))
    grace_days: Int = Field(default=180, ge=1, le=MAX_DAYS)
    trial_days: Int = Field(default=180, ge=1, le=MAX_DAYS)
    grace_limit: Int | None = Field(default=None, ge=0)
    grace_promotion: Literal["purchase", "any", "manual"] = "purchase"
    idle_release_days: Int = Field(default=90, ge=1, le=MAX_DAYS)

    @field_validator("cwms_version", mode="before")
    @classmethod
    def _cwms_version(cls, value: Any) -> Any:
        if isinstance(value, float) and value in (2.0, 2.5):
            return f"{value:.1f}"
        if isinstance(value, str | float | int) and not isinstance(value, bool) and str(value) not in ("2.0", "2.5"):
            raise ValueError(f'unsupported CWMS version {value!r}: use "2.0", or "2.5" for CWMS 2.5 and later')
        return value

    @property
    def concurrent_meetings(self) -> int:
        """max_concurrent_meetings, or its default for the CWMS version (2 for 2.5, 1 for 2.0)."""
        if self.max_concurrent_meetings is not None:
            return self.max_concurrent_meetings
        return 2 if self.cwms_version == "2.5" else 1


class SafetyConfig(Section):
    max_deactivations: Int = Field(default=500, ge=0)
    max_deactivation_ratio: Float = Field(default=0.10, ge=0.0, le=1.0)


class ScheduleConfig(Section):
    incremental_every: PositiveDuration = timedelta(minutes=15)
    full_cron: str = "0 3 * * *"
    sweep_every: PositiveDuration = timedelta(hours=1)
    jitter: Duration = timedelta(0)
    misfire_grace: PositiveDuration = timedelta(minutes=5)
    timezone: OptStr = None
    """IANA zone for full_cron (e.g. "Europe/Berlin"); None = the host's local time."""

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as UTC or Europe/Berlin)") from None
        return value

    @field_validator("full_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            cron_trigger(value, "UTC")
        except ValueError as e:
            raise ValueError(f"invalid cron expression {value!r}: {e} (five fields: minute hour day month "
                             "weekday, e.g. \"0 3 * * *\")") from None
        return value

    def full_trigger(self) -> Any:
        """The APScheduler CronTrigger for ``full_cron`` in ``timezone`` (the host's zone when unset)."""
        return cron_trigger(self.full_cron, self.timezone)


class ApiConfig(Section):
    listen: str = "127.0.0.1:8765"
    token_file: OptPath = None
    token_env: EnvName = None
    token_credential: CredentialName = None
    read_token_file: OptPath = None          # with one of these, the dashboard and every GET need this token
    read_token_env: EnvName = None
    read_token_credential: CredentialName = None
    allowed_hosts: list[str] = Field(default_factory=list)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _allowed_hosts(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]+", name) or name.count(":") == 1:
                raise ValueError(f"expected a host name or address (no port, scheme or wildcard), got {name!r}")
        return [name.strip("[]").lower() for name in value]

    @model_validator(mode="after")
    def _one_token(self) -> ApiConfig:
        present = configured_secrets(self, "token")
        if len(present) > 1:
            raise field_issue("token_file", f"set at most one of token_file, token_env, token_credential "
                                       f"(found {', '.join(present)})")
        present = configured_secrets(self, "read_token")
        if len(present) > 1:
            raise field_issue("read_token_file", f"set at most one of read_token_file, read_token_env, "
                                            f"read_token_credential (found {', '.join(present)})")
        return self

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def has_token(self) -> bool:
        return bool(configured_secrets(self, "token"))

    @property
    def has_read_token(self) -> bool:
        return bool(configured_secrets(self, "read_token"))


def split_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8765"`` -> ("127.0.0.1", 8765); ``"[::1]:8765"`` -> ("::1", 8765). Port 0: any free port."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", value.strip())
    if not m:
        raise ValueError(f'expected "HOST:PORT" (e.g. "127.0.0.1:8765" or "[::1]:8765"), got {value!r}')
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if port > 65535:
        raise ValueError(f"port {port} out of range (0-65535)")
    return host, port


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value




class AlertsConfig(Section):
    """``[alerts]`` (DESIGN.md 13): where alerts go and when. The URLs are read, checked and registered with the
    log redactor by :mod:`syncd.settings.alert_urls`, when an alert is sent or `config check` runs."""

    urls: list[str] = Field(default_factory=list)
    urls_file: OptPath = None
    after_failures: Int = Field(default=3, ge=1, le=1000)
    grace_warning_days: Int = Field(default=14, ge=1, le=MAX_DAYS)

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        bad = [str(i) for i, url in enumerate(value) if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://\S", url)]
        if bad:     # the values are not shown: an alert URL may hold a password or token
            raise ValueError(f"entries {', '.join(bad)} are not apprise URLs (SCHEME://...; the values are not "
                             "shown)" if len(bad) > 1 else
                             f"entry {bad[0]} is not an apprise URL (SCHEME://...; the value is not shown)")
        return value
