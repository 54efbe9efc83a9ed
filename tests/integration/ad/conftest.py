"""The Samba AD DC fixtures (session DC, snapshot restore) and connector options pointing at it."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.ad.options import AdOptions
from connectors.ad.records import AdUser
from connectors.base import SourceBatch
from tests.integration.samba.fixtures import samba_dc, samba_fresh  # noqa: F401 - fixtures
from tests.integration.samba.harness import SambaDC


def ad_records(batch: SourceBatch) -> list[AdUser]:
    """The batch's records, checked to be AdUser."""
    out = [r for r in batch.records if isinstance(r, AdUser)]
    assert len(out) == len(batch.records)
    return out


def options_for(dc: SambaDC, **overrides: Any) -> AdOptions:
    """Connector options for the seeded users: LDAPS, verified TLS, the non-admin service account."""
    table: dict[str, Any] = dict(name="ad", urls=[dc.url], bind_dn=dc.bind_dn, password=dc.password,
                                 ca_file=dc.ca_file, tls_name=dc.tls_name, base_dns=[dc.users_ou],
                                 host_group=dc.host_group_dn, page_size=200, connect_timeout=5.0, receive_timeout=20.0)
    return AdOptions(**{**table, **overrides})


@pytest.fixture
def ad_options(samba_dc: SambaDC) -> AdOptions:  # noqa: F811 - the imported fixture
    return options_for(samba_dc)
