"""End-to-end fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.site import Site, cucm_row


@pytest.fixture
def site(tmp_path: Path, db_url: str) -> Site:
    s = Site(tmp_path, db_url)
    s.write_config()
    s.write_users({n: cucm_row(n) for n in range(1, 41)})
    return s
