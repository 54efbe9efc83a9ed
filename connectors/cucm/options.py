"""``[[sources.cucm]]``: one CUCM cluster (its publisher), read over AXL. The one schema of this source type: the
configuration loader validates the table with it and :class:`~connectors.cucm.connector.CucmConnector` takes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from connectors.options import (
    Bool,
    Float,
    Int,
    OptPath,
    SecretOptions,
    SourceName,
    http_url,
    refuse_plain_http,
)

AXL_VERSIONS = ("11.5", "12.0", "12.5", "14.0", "15.0")


class CucmOptions(SecretOptions):
    """One CUCM cluster's publisher. The password, once resolved, shows as ``***`` in repr and logs."""

    checked_files: ClassVar[tuple[str, ...]] = ("ca_file", "wsdl")

    name: SourceName = "cucm"
    url: str
    username: str = Field(min_length=1)
    version: str = "14.0"
    ca_file: OptPath = None
    insecure: Bool = False
    method: Literal["sql", "list"] = "sql"
    """"sql": executeSQLQuery on enduser; "list": listUser."""
    ldap_flag: Literal["sql", "getuser", "ad"] | None = None
    """Where the LDAP-synchronised/local flag comes from. Default: "sql" for method sql, "ad" for method list."""
    page_size: Int = Field(default=1000, ge=1, le=10000)
    wsdl: OptPath = None
    """A site's full AXL toolkit WSDL instead of the shipped small one."""
    timeout: Float = Field(default=30.0, gt=0)
    """Seconds, every call (connect and read)."""
    retries: Int = Field(default=5, ge=0, le=20)
    """Attempts after the first for temporary faults."""
    retry_budget: Float = Field(default=120.0, ge=0)
    """Seconds one read may spend retrying temporary faults in all (the waits and the retried calls)."""

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
        return http_url(value, "an AXL URL", "https://cucm-pub.example.com:8443/axl/")

    @model_validator(mode="after")
    def _checks(self) -> Self:
        refuse_plain_http(self.url, self.insecure, "the AXL password")
        if self.ldap_flag is None:
            self.ldap_flag = "sql" if self.method == "sql" else "ad"
        return self

@dataclass(frozen=True)
class Tuning:
    """Timings that are not configuration keys (tests shorten them)."""

    backoff_base: float = 1.0       # seconds; doubles per attempt, with jitter
    backoff_cap: float = 30.0       # seconds; the longest single wait
    change_chunk: int = 200         # uuids per re-read query on an incremental read


DEFAULT_TUNING = Tuning()
