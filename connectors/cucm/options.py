"""Settings of one CUCM source (one publisher): the ``[[sources.cucm]]`` keys of DESIGN 9a."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from connectors.axl.xml import check_version

METHODS = ("sql", "list")
LDAP_FLAGS = ("sql", "getuser", "ad")


@dataclass(frozen=True)
class CucmOptions:
    """One CUCM cluster's publisher. ``password`` is the resolved secret (never logged: it is not in repr)."""

    name: str
    url: str
    username: str
    password: str = field(repr=False)   # kept out of logs and tracebacks
    version: str = "14.0"
    ca_file: str | None = None
    insecure: bool = False
    method: str = "sql"             # "sql": executeSQLQuery on enduser; "list": listUser
    page_size: int = 1000
    wsdl: str | None = None         # a site's full AXL toolkit WSDL instead of the shipped small one
    ldap_flag: str = "sql"          # with method "list": where the LDAP/local flag comes from
    timeout: float = 30.0           # seconds, every call (connect and read)
    retries: int = 5                # attempts after the first for temporary faults
    backoff_base: float = 1.0       # seconds; doubles per attempt, with jitter
    backoff_cap: float = 30.0       # seconds; the longest single wait
    change_chunk: int = 200         # uuids per re-read query on an incremental read

    def validate(self) -> None:
        """Raise ValueError with a one-line reason for a setting that cannot work."""
        check_version(self.version)
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"url must start with https:// (got {self.url!r})")
        if self.url.startswith("http://") and not self.insecure:
            raise ValueError(f"url {self.url!r} is plain HTTP, which sends the AXL password in clear text: use "
                             "https://, or insecure = true (test setups only)")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)} (got {self.method!r})")
        if self.ldap_flag not in LDAP_FLAGS:
            raise ValueError(f"ldap_flag must be one of {', '.join(LDAP_FLAGS)} (got {self.ldap_flag!r})")
        if self.ca_file and not os.path.isfile(self.ca_file):
            raise ValueError(f"ca_file {self.ca_file!r} does not exist")
        if self.wsdl and not os.path.isfile(self.wsdl):
            raise ValueError(f"wsdl {self.wsdl!r} does not exist")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
