"""Fixtures for the CUCM connector tests: the AXL simulator over real HTTP(S) and Cisco's AXLSoap.xsd.

The schema is read from ``$AXL_SCHEMA_DIR`` (default ``../shared/axl-schema/14.0`` next to the repo); tests that
need it skip with a reason when it is absent, and fail instead when ``SYNCD_REQUIRE_AXL_SCHEMA=1``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lxml import etree

from connectors.axl.xml import SOAP_ENV, axl_ns, local
from connectors.axlsim import Simulator
from connectors.cucm.connector import CucmConnector
from connectors.cucm.options import CucmOptions, Tuning
from tests.axlschema import need_schema_file


@pytest.fixture(scope="session")
def axl_schema() -> etree.XMLSchema:
    """Cisco's AXLSoap.xsd (14.0), compiled once (~0.7 s)."""
    return etree.XMLSchema(etree.parse(str(need_schema_file("AXLSoap.xsd"))))


@pytest.fixture(scope="session")
def validate(axl_schema: etree.XMLSchema) -> Callable[[bytes], None]:
    """Validate a SOAP envelope's Body content (operation, response, or a fault's axlError) against AXLSoap.xsd."""
    ns = axl_ns("14.0")

    def check(envelope: bytes) -> None:
        root = etree.fromstring(envelope)
        assert root.tag == f"{{{SOAP_ENV}}}Envelope", root.tag
        body = root.find(f"{{{SOAP_ENV}}}Body")
        assert body is not None and len(body) == 1
        payload = body[0]
        if payload.tag == f"{{{SOAP_ENV}}}Fault":
            # CUCM puts an unqualified axlError in detail; the schema's global element is qualified: re-home it.
            err = next(e for e in payload.iter() if isinstance(e.tag, str) and local(e.tag) == "axlError")
            payload = etree.Element(f"{{{ns}}}axlError")
            for child in err:
                payload.append(copy.deepcopy(child))
        else:
            payload = copy.deepcopy(payload)
        if not axl_schema.validate(etree.ElementTree(payload)):
            raise AssertionError(f"{local(payload.tag)} is not valid AXL 14.0: {axl_schema.error_log}")

    return check


@pytest.fixture(scope="module")
def big_sim() -> Iterator[Simulator]:
    """20,000 users, read-only: tests that mutate use their own small simulator."""
    with Simulator(20_000, seed=11) as sim:
        yield sim


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(300, seed=5, record=True) as s:
        yield s


@pytest.fixture
def make_conn() -> Iterator[Callable[..., CucmConnector]]:
    """Build a connector for a simulator (fast backoff so retries take milliseconds); closed after the test."""
    made: list[CucmConnector] = []

    def make(sim: Simulator, **kw: Any) -> CucmConnector:
        opts: dict[str, Any] = dict(name="cucm", url=sim.url, username=sim.username, password=sim.password,
                                    timeout=10.0, retries=3, insecure=sim.url.startswith("http://"))
        opts.update(kw)
        conn = CucmConnector(CucmOptions(**opts), tuning=Tuning(backoff_base=0.01, backoff_cap=0.05))
        made.append(conn)
        return conn

    yield make
    for c in made:
        c.close()
