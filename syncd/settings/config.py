"""The whole configuration file (:class:`Config`) and reading the secrets it names.

Secrets are not read at load time (a report does not need the CUCM password): :meth:`Config.check_secrets`
reads them all (``syncd config check``), :meth:`Config.resolved` reads one when a connector is built.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr

from connectors.cwms.options import CwmsOptions
from connectors.options import PasswordOptions, SecretOptions, Section, SourceOptions
from syncd.settings import secrets
from syncd.settings.keys import ConfigError
from syncd.settings.schema import (
    AlertsConfig,
    ApiConfig,
    DatabaseConfig,
    LicensesConfig,
    LoggingConfig,
    ReconcileConfig,
    SafetyConfig,
    ScheduleConfig,
)
from syncd.settings.secrets import SecretUnavailable
from syncd.settings.sources import SourcesConfig

if TYPE_CHECKING:
    from syncd.settings.alert_urls import AlertUrl


class Config(Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    licenses: LicensesConfig = Field(default_factory=LicensesConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    cwms: CwmsOptions | None = None
    """The CWMS site (DESIGN.md 12); None: syncd neither reads nor writes CWMS."""

    _path: str | None = PrivateAttr(default=None)

    @property
    def path(self) -> str | None:
        """The file this configuration came from; None for the embedded defaults."""
        return self._path

    def source_order(self) -> list[str]:
        """Source names in the order runs read them: by type in registry order (CUCM, AD, files), then file order."""
        return [s.name for s in self.sources.all()]

    def source(self, name: str) -> SourceOptions:
        for src in self.sources.all():
            if src.name == name:
                return src
        raise KeyError(name)

    def secret_for(self, source: SecretOptions) -> str:
        """The password of ``source``, read now (and registered for log redaction)."""
        return resolve_secret(source, source.key_path, self.path)

    def resolved(self, source: SourceOptions) -> SourceOptions:
        """``source`` as its connector takes it: with its password read (a source without one as it is)."""
        return source.with_password(self.secret_for(source)) if isinstance(source, SecretOptions) else source

    @property
    def max_pushes(self) -> int:
        """The safety gate's limit on CWMS writes in one run: ``[cwms] max_pushes``, else ``max_deactivations``."""
        cwms = self.cwms
        if cwms is not None and cwms.max_pushes is not None:
            return cwms.max_pushes
        return self.safety.max_deactivations

    def cwms_resolved(self) -> CwmsOptions:
        """``[cwms]`` with its password read; KeyError when the section is absent."""
        if self.cwms is None:
            raise KeyError("cwms")
        return self.cwms.with_password(resolve_secret(self.cwms, "cwms", self.path))

    def password_tables(self) -> list[tuple[str, PasswordOptions]]:
        """Every table with a password, with its key path: the sources that have one, then ``[cwms]``."""
        out: list[tuple[str, PasswordOptions]] = [(s.key_path, s) for s in self.sources.all()
                                                  if isinstance(s, SecretOptions)]
        return out + ([("cwms", self.cwms)] if self.cwms is not None else [])

    def api_token(self) -> str | None:
        """The API bearer token, read now, or None when no token_* key is set."""
        if not self.api.has_token:
            return None
        return resolve_secret(self.api, "api", self.path, field="token")

    def api_read_token(self) -> str | None:
        """The token the dashboard and the API's GETs need (DESIGN.md 13), read now; None when unset (open)."""
        if not self.api.has_read_token:
            return None
        return resolve_secret(self.api, "api", self.path, field="read_token")

    def alert_urls(self) -> list[AlertUrl]:
        """The alert receivers (``[alerts] urls``, then ``urls_file``), read now and registered for log
        redaction; a ConfigError naming each URL apprise does not understand or that holds a secret where it
        may not (syncd/settings/alert_urls.py)."""
        from syncd.settings.alert_urls import read_urls

        return read_urls(self.alerts, self.path) if self.alerts.urls or self.alerts.urls_file else []

    def check_secrets(self) -> None:
        """Read every secret and check every file the sources need, reporting all problems in one ConfigError.

        ``syncd config check`` calls this, so a missing secret file fails up front (exit 78) instead of at the
        first run.
        """
        errors: list[tuple[str, str]] = []
        for path, table in self.password_tables():
            try:
                resolve_secret(table, path, self.path)
            except ConfigError as e:
                errors.extend(e.errors)
        tables: list[tuple[str, Section]] = [(s.key_path, s) for s in self.sources.all()]
        for path, section in tables + ([("cwms", self.cwms)] if self.cwms is not None else []):
            for key in section.checked_files:
                problem = _unreadable(getattr(section, key))
                if problem:
                    errors.append((f"{path}.{key}", problem))
        for read in (self.api_token, self.api_read_token, self.alert_urls):
            try:
                read()
            except ConfigError as e:
                errors.extend(e.errors)
        if errors:
            raise ConfigError(errors, self.path)

    def policy_settings_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``policy.Settings``."""
        lic = self.licenses
        return {
            "cwms_version": lic.cwms_version,
            "grace_days": lic.grace_days,
            "trial_days": lic.trial_days,
            "grace_limit": lic.grace_limit,
            "grace_promotion": lic.grace_promotion,
            "max_concurrent_meetings": lic.concurrent_meetings,
            "idle_release_days": lic.idle_release_days,
            "release_hold": lic.release_hold,
            "meeting_timeout": lic.meeting_timeout,
        }


def _unreadable(path: str | None) -> str | None:
    """Why the file a key names cannot be read; the key is named, not its value (as for a secret's file)."""
    if path is None:
        return None
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        return "the file it names does not exist"
    except IsADirectoryError:
        return "the file it names is a directory"
    except PermissionError:
        return f"the file it names cannot be read: permission denied (uid {os.getuid()})"
    except OSError as e:
        return f"the file it names cannot be read: {e.strerror or e}"
    return None


# -- secrets ----------------------------------------------------------------------------------------------

def resolve_secret(spec: Any, key_path: str | None = None, config_path: str | None = None, *,
                   field: str = "password") -> str:
    """Read the secret ``field`` of ``spec`` (a source table or the api table) from the file, environment
    variable, systemd credential or inline value it names.

    ``key_path`` (default ``spec.key_path``) prefixes error keys: ``sources.cucm[0].password_file: ...``.
    ``config_path`` is the file the configuration came from; an inline secret is refused when that file can be
    read by group or others. The value is registered with the log redactor.
    """
    prefix = key_path if key_path is not None else getattr(spec, "key_path", "")
    try:
        return secrets.lookup(spec, field, config_path)
    except SecretUnavailable as e:
        raise ConfigError([(f"{prefix}.{e.key}" if prefix else e.key, e.message)], config_path) from None


