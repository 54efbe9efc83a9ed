"""pytest fixtures for the Samba AD DC: one DC per test session, restored from a snapshot after tests that change it.

Use them from a conftest with ``pytest_plugins = ["tests.integration.samba.fixtures"]`` (top-level conftest) or by
importing the fixture names. Tests that need the DC are skipped, with the reason, when Samba cannot run here; with
``SYNCD_REQUIRE_SAMBA=1`` (CI) they fail instead.

- ``samba_dc`` (session): the running, seeded :class:`~tests.integration.samba.harness.SambaDC`. Tests that use
  it directly must not change the directory (or must undo what they change).
- ``samba_fresh`` (function): the same DC, put back to the seeded snapshot after the test (about 2-3 s); use it
  for tests that disable, delete, change or stop things.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.integration.samba import harness

SEED_USERS = int(os.environ.get("SYNCD_SAMBA_USERS", "1000"))


def _unavailable(reason: str) -> None:
    if os.environ.get("SYNCD_REQUIRE_SAMBA") == "1":
        pytest.fail(f"Samba AD DC required (SYNCD_REQUIRE_SAMBA=1) but unavailable: {reason}", pytrace=False)
    pytest.skip(f"Samba AD DC unavailable: {reason}")


# One DC per process, even when the fixtures are registered twice (a plugin and a conftest import each make a
# session fixture of their own): the second one shares the first one's DC or its reason for being unavailable.
_shared: dict[str, object] = {}


@pytest.fixture(scope="session")
def samba_dc() -> Iterator[harness.SambaDC]:
    if "error" in _shared:
        _unavailable(str(_shared["error"]))
    if "dc" in _shared:
        yield _shared["dc"]  # type: ignore[misc]
        return
    if not harness.is_installed() and os.geteuid() != 0:
        _shared["error"] = "Samba is not installed and installing it needs root"
        _unavailable(str(_shared["error"]))
    workdir = harness.WORKDIR
    with harness.machine_lock():
        try:
            try:
                dc = harness.bring_up(workdir, SEED_USERS)
            except Exception as exc:  # any failure to bring it up: skip, or fail under SYNCD_REQUIRE_SAMBA
                harness.stop(workdir / "dc")
                _shared["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
                _unavailable(str(_shared["error"]))
            _shared["dc"] = dc
            yield dc
        finally:
            _shared.pop("dc", None)
            harness.stop(workdir / "dc")
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def samba_fresh(samba_dc: harness.SambaDC) -> Iterator[harness.SambaDC]:
    if not samba_dc.running():
        samba_dc.restore()
    yield samba_dc
    samba_dc.restore()
