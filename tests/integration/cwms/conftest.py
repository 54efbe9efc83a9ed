"""Fixtures for the CWMS client tests: the CWMS simulator over real HTTPS, validating every request against the
WebEx XML API schema when ``$WEBEX_SCHEMA_DIR`` holds it (tests that need it skip, or fail under
SYNCD_REQUIRE_WEBEX_SCHEMA=1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.cwms.client import CwmsClient
from connectors.cwms.options import CwmsOptions, Tuning
from connectors.cwmssim import RequestSchema, Simulator
from tests.webexschema import need_schema_dir, schema_dir


@pytest.fixture(scope="session")
def schema() -> RequestSchema | None:
    """The schema when it is there (most tests run either way)."""
    return RequestSchema.find(schema_dir())


@pytest.fixture(scope="session")
def required_schema() -> RequestSchema:
    found = RequestSchema.find(need_schema_dir())
    assert found is not None
    return found


@pytest.fixture
def sim(schema: RequestSchema | None) -> Iterator[Simulator]:
    with Simulator(120, seed=3, tls=True, schema=schema) as s:
        yield s


@pytest.fixture
def make_client() -> Iterator[Callable[..., CwmsClient]]:
    """A client for a simulator, trusting its CA, with fast backoff; closed after the test."""
    made: list[CwmsClient] = []

    def make(sim: Simulator, *, tuning: Tuning | None = None, **kw: Any) -> CwmsClient:
        opts: dict[str, Any] = dict(url=sim.url, site_name=sim.site_name, username=sim.username,
                                    password=sim.password, ca_file=sim.ca_file, timeout=5.0, retries=3)
        opts.update(kw)
        client = CwmsClient(CwmsOptions(**opts),
                            tuning=tuning or Tuning(backoff_base=0.01, backoff_cap=0.05, throttle_wait=0.05))
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()
