"""The configuration file (DESIGN.md 9a): its schema, loading, validation and secrets.

One TOML file, validated whole: every problem is reported with its key path (``sources.cucm[0].page_size``) in
a single :class:`ConfigError` whose text is one line. Key names are a contract with users: add keys, rename none.

Conventions:
- An empty string means "not set" for optional strings and paths (TOML has no null): ``ca_file = ""``.
- Relative paths (secret files, CA files, WSDL, snapshot files) are relative to the configuration file's folder.
- Durations are strings such as ``"30s"``, ``"15m"``, ``"1h"``, ``"90d"`` or ``"1h30m"``.
- Secrets are not read at load time (a report does not need the CUCM password); :meth:`Config.check_secrets`
  reads them all (``syncd config check``), :meth:`Config.secret_for` reads one when a connector is built. An inline
  secret in a file that group or others can read is refused at load time.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from syncd.settings import secrets
from syncd.settings.secrets import Secret, SecretUnavailable

DEFAULT_PATH = "/etc/syncd/syncd.toml"
ENV_VAR = "SYNCD_CONFIG"

AXL_VERSIONS = ("11.5", "12.0", "12.5", "14.0", "15.0")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

# -- errors -----------------------------------------------------------------------------------------------


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


Issue = tuple[tuple[str | int, ...], str]


class FieldIssues(ValueError):
    """Raised by cross-field validators to report problems at precise keys below the model being validated."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(msg for _, msg in issues))
        self.issues = issues


def _issue(key: str, message: str) -> FieldIssues:
    return FieldIssues([((key,), message)])


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


_TOML_TYPES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean", dict: "a table",
               list: "an array"}


def _pydantic_errors(exc: ValidationError) -> list[tuple[str, str]]:
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
        out.append((key_path(loc), msg))
    return out


# -- field types ------------------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_UNIT = {"ms": timedelta(milliseconds=1), "s": timedelta(seconds=1), "m": timedelta(minutes=1),
         "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_duration(value: Any) -> timedelta:
    """``"15m"`` -> 15 minutes; units ms, s, m, h, d, w, combinable (``"1h30m"``); never negative."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError("a duration cannot be negative")
        return value
    if not isinstance(value, str):
        raise ValueError('expected a duration string such as "30s", "15m", "1h" or "90d"')
    text = value.strip().lower().replace(" ", "")
    if not _DURATION_WHOLE.fullmatch(text):
        raise ValueError(f'invalid duration {value!r}: use a number and a unit (ms, s, m, h, d, w), e.g. "15m"')
    return sum((float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(text)), timedelta(0))


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


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
    if value is not None and not secrets.ENV_NAME.fullmatch(value):
        raise ValueError(f"not an environment variable name: {value!r}")
    return value


def _credential_name(value: str | None) -> str | None:
    if value is not None and not secrets.CREDENTIAL_NAME.fullmatch(value):
        raise ValueError(f"not a systemd credential name: {value!r} (no slashes)")
    return value


def _source_name(value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise ValueError(f"invalid source name {value!r}: use lower-case letters, digits, '-' and '_', "
                         "starting with a letter or digit")
    return value


Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Float = Annotated[float, Strict()]          # strict float still accepts TOML integers
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
OptStr = Annotated[str | None, BeforeValidator(_empty_to_none)]
OptPath = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_relative_to_config)]
ConfigPath = Annotated[str, AfterValidator(_relative_to_config)]
EnvName = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_env_name)]
CredentialName = Annotated[str | None, BeforeValidator(_empty_to_none), AfterValidator(_credential_name)]
OptSecret = Annotated[Secret | None, BeforeValidator(_empty_to_none)]
SourceName = Annotated[str, AfterValidator(_source_name)]
MatchKey = Literal["mail", "userid"]
MATCH_KEYS: tuple[MatchKey, ...] = ("mail", "userid")


# -- LDAP syntax checks -----------------------------------------------------------------------------------

def validate_dn(value: str) -> str | None:
    """Why ``value`` is not a valid LDAP DN, or None: the AD connector's own check (``connectors.ad.options``), so
    that a DN accepted here is never refused at run time."""
    from connectors.ad.options import validate_dn as connector_validate_dn

    return connector_validate_dn(value)


def validate_filter(value: str) -> str | None:
    """Why ``value`` is not a valid LDAP filter (RFC 4515 string form, parenthesised), or None."""
    from ldap3.core.exceptions import LDAPInvalidFilterError
    from ldap3.operation.search import parse_filter

    text = value.strip()
    if not text.startswith("("):
        return f"invalid LDAP filter {value!r}: must be enclosed in parentheses, e.g. (department=Sales)"
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        return f"invalid LDAP filter {value!r}: unbalanced parentheses (escape literal ones as \\28 and \\29)"
    if not text.endswith(")"):
        return f"invalid LDAP filter {value!r}: text after the closing parenthesis"
    if re.search(r"\(\s*[~<>:]?=", text):
        return f"invalid LDAP filter {value!r}: an item has no attribute name"
    try:
        parse_filter(text, None, auto_escape=False, auto_encode=False, validator=None, check_names=False)
    except LDAPInvalidFilterError as e:
        return f"invalid LDAP filter {value!r}: {e}"
    return None


def validate_bind_name(value: str) -> str | None:
    """A bind name: a DN, or the forms AD also accepts for a simple bind: user@domain (UPN), DOMAIN\\user.
    The AD connector's own check, so the configuration accepts exactly what the connector can use."""
    from connectors.ad.options import validate_bind_name as connector_validate_bind_name

    return connector_validate_bind_name(value)


# -- sections ---------------------------------------------------------------------------------------------

class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


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
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r} (e.g. sqlite:////var/lib/syncd/syncd.db or "
                             "postgresql+psycopg://syncd@db.example.com/syncd)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
        return value


class _SecretFields(Section):
    """A secret named by exactly one of password_file, password_env, password_credential, password (inline)."""

    password_file: OptPath = None
    password_env: EnvName = None
    password_credential: CredentialName = None
    password: OptSecret = None

    _key_path: str = PrivateAttr(default="")

    @property
    def key_path(self) -> str:
        """Where this table sits in the file, e.g. ``sources.cucm[0]``."""
        return self._key_path

    @model_validator(mode="after")
    def _one_password(self) -> _SecretFields:
        present = secrets.configured_sources(self, "password")
        if len(present) != 1:
            found = f" (found {', '.join(present)})" if present else ""
            raise _issue("password", "set exactly one of password_file, password_env, password_credential or "
                         f"password{found}")
        return self


class CucmSource(_SecretFields):
    """``[[sources.cucm]]``: one CUCM cluster (its publisher), read over AXL."""

    name: SourceName = "cucm"
    url: str
    username: str = Field(min_length=1)
    version: str = "14.0"
    ca_file: OptPath = None
    insecure: Bool = False
    method: Literal["sql", "list"] = "sql"
    ldap_flag: Literal["sql", "getuser", "ad"] | None = None
    """Where the LDAP-synchronised/local flag comes from. Default: "sql" for method sql, "ad" for method list."""
    page_size: Int = Field(default=1000, ge=1, le=10000)
    wsdl: OptPath = None
    timeout: Float = Field(default=30.0, gt=0)
    retries: Int = Field(default=5, ge=0, le=20)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = f"{value:.1f}"
        if isinstance(value, str) and value not in AXL_VERSIONS:
            raise ValueError(f"unsupported AXL version {value!r}: use one of {', '.join(AXL_VERSIONS)}")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError(f"invalid port in {value!r}") from None
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"not an AXL URL: {value!r} (e.g. https://cucm-pub.example.com:8443/axl/)")
        return value

    @model_validator(mode="after")
    def _checks(self) -> CucmSource:
        if urlsplit(self.url).scheme == "http" and not self.insecure:
            raise _issue("url", "plain http sends the AXL password in clear text: use https, or set "
                                "insecure = true (test setups only)")
        if self.ldap_flag is None:
            self.ldap_flag = "sql" if self.method == "sql" else "ad"
        return self


class AdSource(_SecretFields):
    """``[[sources.ad]]``: one Active Directory domain, read over LDAP from a pool of domain controllers."""

    name: SourceName = "ad"
    urls: list[str] = Field(min_length=1)
    bind_dn: str
    ca_file: OptPath = None
    tls_name: OptStr = None
    base_dns: list[str] = Field(min_length=1)
    filter: str = ""
    host_group: str = ""
    mode: Literal["dirsync", "usn"] = "dirsync"
    page_size: Int = Field(default=500, ge=1, le=1000)
    match: list[MatchKey] = Field(default_factory=lambda: list(MATCH_KEYS), min_length=1)
    start_tls: Bool = False
    insecure: Bool = False
    connect_timeout: Float = Field(default=10.0, gt=0)
    receive_timeout: Float = Field(default=60.0, gt=0)

    @field_validator("bind_dn")
    @classmethod
    def _bind_dn(cls, value: str) -> str:
        problem = validate_bind_name(value)
        if problem:
            raise ValueError(f"{problem} (or use user@domain)")
        return value

    @field_validator("base_dns")
    @classmethod
    def _base_dns(cls, value: list[str]) -> list[str]:
        issues: list[Issue] = [((i,), problem) for i, dn in enumerate(value) if (problem := validate_dn(dn))]
        if issues:
            raise FieldIssues(issues)
        return value

    @field_validator("host_group")
    @classmethod
    def _host_group(cls, value: str) -> str:
        problem = validate_dn(value) if value.strip() else None
        if problem:
            raise ValueError(f"{problem} (the group's distinguished name)")
        return value.strip()

    @field_validator("filter")
    @classmethod
    def _filter(cls, value: str) -> str:
        problem = validate_filter(value) if value.strip() else None
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("match")
    @classmethod
    def _match(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each of mail and userid may appear once")
        return value

    @field_validator("urls")
    @classmethod
    def _url_syntax(cls, value: list[str]) -> list[str]:
        issues: list[Issue] = []
        for i, url in enumerate(value):
            parts = urlsplit(url)
            try:
                parts.port  # noqa: B018 - raises on a bad port
            except ValueError:
                issues.append(((i,), f"invalid port in {url!r}"))
                continue
            if parts.scheme not in ("ldaps", "ldap") or not parts.hostname or parts.path not in ("", "/") \
                    or parts.query:
                issues.append(((i,), f"not an LDAP server URL: {url!r} (e.g. ldaps://dc1.example.com)"))
        if issues:
            raise FieldIssues(issues)
        return value

    @model_validator(mode="after")
    def _transport(self) -> AdSource:
        plain = [i for i, url in enumerate(self.urls) if urlsplit(url).scheme == "ldap"]
        if plain and not (self.start_tls or self.insecure):
            raise FieldIssues([(("urls", i), f"{self.urls[i]}: plain ldap:// needs start_tls = true (or insecure "
                                             "= true, which sends the password in clear text)") for i in plain])
        if self.start_tls and not plain:
            raise _issue("start_tls", "start_tls applies to ldap:// URLs; these are ldaps://")
        return self


class FileSource(Section):
    """``[[sources.file]]``: a snapshot of CUCM or AD users exported to a file (JSON lines or CSV)."""

    name: SourceName = "file"
    path: ConfigPath
    format: Literal["jsonl", "csv"] | None = None
    """Default: "csv" for a .csv file, else "jsonl"."""
    kind: Literal["cucm", "ad"] = "cucm"

    _key_path: str = PrivateAttr(default="")

    @property
    def key_path(self) -> str:
        return self._key_path

    @model_validator(mode="after")
    def _format(self) -> FileSource:
        if self.format is None:
            self.format = "csv" if self.path.lower().endswith(".csv") else "jsonl"
        return self


SourceConfig = CucmSource | AdSource | FileSource


class SourcesConfig(Section):
    cucm: list[CucmSource] = Field(default_factory=list)
    ad: list[AdSource] = Field(default_factory=list)
    file: list[FileSource] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> SourcesConfig:
        seen: dict[str, str] = {}
        issues: list[Issue] = []
        for kind, i, src in self._indexed():
            src._key_path = f"sources.{kind}[{i}]"
            if src.name in seen:
                issues.append(((kind, i, "name"), f"duplicate source name {src.name!r} (also {seen[src.name]}); "
                                                 "give each source its own name"))
            else:
                seen[src.name] = src._key_path
        if issues:
            raise FieldIssues(issues)
        return self

    def _indexed(self) -> Iterator[tuple[str, int, SourceConfig]]:
        for i, c in enumerate(self.cucm):
            yield "cucm", i, c
        for i, a in enumerate(self.ad):
            yield "ad", i, a
        for i, f in enumerate(self.file):
            yield "file", i, f

    def all(self) -> list[SourceConfig]:
        """Every source, CUCM first, then AD, then files, each in file order."""
        return [*self.cucm, *self.ad, *self.file]


class ReconcileConfig(Section):
    require_cucm: Bool = True


class LicensesConfig(Section):
    cwms_version: Literal["2.0", "2.5"] = "2.5"
    max_concurrent_meetings: Int | None = Field(default=None, ge=1, le=1000)
    release_hold: Duration = timedelta(0)
    meeting_timeout: PositiveDuration = timedelta(hours=24)
    grace_days: Int = Field(default=180, ge=1, le=3650)
    trial_days: Int = Field(default=180, ge=1, le=3650)
    grace_limit: Int | None = Field(default=None, ge=0)
    grace_promotion: Literal["purchase", "any", "manual"] = "purchase"
    idle_release_days: Int = Field(default=90, ge=1, le=3650)

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


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_day(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token in _CRON_DAYS:
        return _CRON_DAYS.index(token)
    raise ValueError(f"invalid day of week {token!r} (0-7 or sun-sat; 0 and 7 are Sunday)")


def _cron_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler 3 day names.

    APScheduler 3's ``CronTrigger.from_crontab`` reads weekday numbers with 0 = Monday, so ``1-5`` would run
    Tuesday to Saturday; the days are therefore spelled out by name.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        m = re.fullmatch(r"(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:/(\d+))?", item)
        if not m:
            raise ValueError(f"invalid day of week {item!r}")
        first, last, step = m.group(1), m.group(2), int(m.group(3) or 1)
        if step == 0:
            raise ValueError(f"invalid step in {item!r}")
        lo = 0 if first == "*" else _cron_day(first)
        hi = _cron_day(last) if last else (6 if first == "*" or m.group(3) else lo)
        if lo > hi:
            raise ValueError(f"invalid day-of-week range {item!r}")
        days.update(d % 7 for d in range(lo, hi + 1, step))
    ordered = [1, 2, 3, 4, 5, 6, 0]      # APScheduler's week starts on Monday
    return ",".join(_CRON_DAYS[d] for d in ordered if d in days)


def cron_trigger(expression: str, timezone: str | None = None) -> Any:
    """An APScheduler CronTrigger for a five-field crontab expression with crontab's meaning; ValueError when
    it is not one."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # crontab fires when either matches, APScheduler only when both do: refuse rather than guess.
        raise ValueError("restrict the day of month or the day of week, not both")
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_weekdays(weekday),
                       timezone=ZoneInfo(timezone) if timezone else None)


class ApiConfig(Section):
    listen: str = "127.0.0.1:8765"
    token_file: OptPath = None
    token_env: EnvName = None
    token_credential: CredentialName = None

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @model_validator(mode="after")
    def _one_token(self) -> ApiConfig:
        present = secrets.configured_sources(self, "token")
        if len(present) > 1:
            raise _issue("token_file", f"set at most one of token_file, token_env, token_credential "
                                       f"(found {', '.join(present)})")
        return self

    @property
    def host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def has_token(self) -> bool:
        return bool(secrets.configured_sources(self, "token"))


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


# -- the whole file ---------------------------------------------------------------------------------------

class Config(Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    licenses: LicensesConfig = Field(default_factory=LicensesConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    _path: str | None = PrivateAttr(default=None)

    @property
    def path(self) -> str | None:
        """The file this configuration came from; None for the embedded defaults."""
        return self._path

    def source_order(self) -> list[str]:
        """Source names in the order runs read them: CUCM, then AD, then files, each in file order."""
        return [s.name for s in self.sources.all()]

    def source(self, name: str) -> SourceConfig:
        for src in self.sources.all():
            if src.name == name:
                return src
        raise KeyError(name)

    def secret_for(self, source: CucmSource | AdSource) -> str:
        """The password of ``source``, read now (and registered for log redaction)."""
        return resolve_secret(source, source.key_path, self.path)

    def api_token(self) -> str | None:
        """The API bearer token, read now, or None when no token_* key is set."""
        if not self.api.has_token:
            return None
        return resolve_secret(self.api, "api", self.path, field="token")

    def check_secrets(self) -> None:
        """Read every secret and check every file the sources need, reporting all problems in one ConfigError.

        ``syncd config check`` calls this, so a missing secret file fails up front (exit 78) instead of at the
        first run.
        """
        errors: list[tuple[str, str]] = []
        for src in self.sources.all():
            if isinstance(src, CucmSource | AdSource):
                try:
                    self.secret_for(src)
                except ConfigError as e:
                    errors.extend(e.errors)
                for key in ("ca_file", "wsdl"):
                    problem = _unreadable(getattr(src, key, None))
                    if problem:
                        errors.append((f"{src.key_path}.{key}", problem))
        try:
            self.api_token()
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
    if path is None:
        return None
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        return f"{path}: no such file"
    except IsADirectoryError:
        return f"{path}: is a directory"
    except PermissionError:
        return f"{path}: permission denied (uid {os.getuid()})"
    except OSError as e:
        return f"{path}: {e.strerror or e}"
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


# -- loading ----------------------------------------------------------------------------------------------

def config_path(path: str | None = None) -> tuple[str, bool]:
    """The file to load and whether it was asked for explicitly (argument or $SYNCD_CONFIG)."""
    explicit = path or os.environ.get(ENV_VAR) or None
    return (explicit or DEFAULT_PATH), explicit is not None


def load_config(path: str | None = None) -> Config:
    """Load and validate the configuration.

    The file is ``path``, else ``$SYNCD_CONFIG``, else ``/etc/syncd/syncd.toml``. A missing file at the default
    location means the embedded defaults; a missing file that was asked for is an error.
    """
    file, explicit = config_path(path)
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
    try:
        config = Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as e:
        raise ConfigError(_pydantic_errors(e), path) from None
    config._path = path
    errors: list[tuple[str, str]] = []
    for src in _inline_secret_sources(config):
        refusal = secrets.inline_refusal(path)
        if refusal:
            errors.append((f"{src.key_path}.password", f"{refusal}; use password_file, password_env or "
                                                       "password_credential, or chmod 600"))
        elif src.password is not None:
            from syncd.logging import register_secret

            register_secret(src.password.get_secret_value())
    if errors:
        raise ConfigError(errors, path)
    return config


def _inline_secret_sources(config: Config) -> Iterator[CucmSource | AdSource]:
    sources: list[CucmSource | AdSource] = [*config.sources.cucm, *config.sources.ad]
    for src in sources:
        if src.password is not None:
            yield src


def example_text() -> str:
    """The documented example configuration (``syncd config example``; ``config/syncd.toml`` is a copy)."""
    from importlib.resources import files

    return files("syncd.settings").joinpath("example.toml").read_text(encoding="utf-8")
