"""Faults in the middle of a CUCM read (issue 7): the AXL simulator fails part-way through a full read of 20,000
users with each fault class. The run must exit 69 (source unavailable), apply nothing (the stored people are
unchanged, nobody is deactivated because the read stopped early), and the next healthy run must converge.

SQLite only, to keep the file quick: the store's behaviour on an incomplete batch does not depend on the engine
(tests/e2e/test_cucm_sync.py covers both engines on a wrong password).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import Command

USERS = 20_000
PAGE = 1000
# The fault hits this many consecutive AXL requests: more than the first try plus the one retry configured below,
# so even a fault the connector treats as temporary (503, memory, dropped connection) outlasts the retries.
STORM = 4
MID_READ = 8          # the fault starts at the 8th request of the faulty run: pages of users already read


class FaultSite(Command):
    def __init__(self, root: Path, sim: Simulator) -> None:
        self.root, self.sim = root, sim
        self.db = root / "syncd.db"
        secret = self.write_secret("cucm.secret", sim.password)
        self.config.write_text(
            f'[database]\nurl = "sqlite:///{self.db}"\n\n[[sources.cucm]]\nname = "cucm"\n'
            f'url = "{sim.url}"\nusername = "{sim.username}"\npassword_file = "{secret}"\n'
            f'ca_file = "{sim.ca_file}"\npage_size = {PAGE}\nretries = 1\ntimeout = 20\n\n'
            '[safety]\nmax_deactivation_ratio = 1.0\nmax_deactivations = 100000\n')
        self.config.chmod(0o600)


@pytest.fixture(scope="module")
def sim():
    with Simulator(USERS, seed=11, tls=True) as s:
        yield s


@pytest.fixture(scope="module")
def baseline(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """A store after one healthy full read (built once, copied by each test), and its people."""
    site = FaultSite(tmp_path_factory.mktemp("baseline"), sim)
    first = site.json("sync", "--full")
    assert first["result"] == "applied" and first["sources"][0]["complete"]
    return site.db, site.json("users", "list")


@pytest.mark.parametrize("kind", ["503", "memory", "drop", "malformed", "html500"])
def test_fault_mid_read_applies_nothing_and_next_run_converges(tmp_path: Path, sim: Simulator,
                                                               baseline: tuple[Path, list[dict]], kind: str):
    sim.clear_faults()
    site = FaultSite(tmp_path, sim)
    shutil.copyfile(baseline[0], site.db)
    before = baseline[1]
    assert site.json("users", "list") == before
    active = [p for p in before if p["active"]]
    assert len(active) > USERS // 2

    # Pending work that a partial read must not apply: one user made inactive in CUCM. Users beyond the fault point
    # were never read, so a read that treated the partial batch as whole would deactivate thousands.
    victim = next(u for u in sim.population if u.status == 1 and u.mailid
                  and any(p["email"] == u.mailid.casefold() and p["active"] for p in active))
    sim.set_status(victim.userid, 2)
    start = sim.request_count
    for k in range(STORM):
        sim.inject_fault(kind, at=start + MID_READ + k)
    try:
        proc = site.run("sync", "--full", check=69)
        served = sim.request_count - start
    finally:
        sim.clear_faults()
    assert served >= MID_READ + 1, served            # the fault really happened mid-read
    err = proc.stderr.strip().splitlines()
    assert err and "Traceback" not in proc.stderr, proc.stderr
    assert "cucm" in err[-1], err[-1]
    assert site.json("users", "list") == before       # nothing applied: no deactivation, no change at all

    healed = site.json("sync", "--full", check=0)
    assert healed["result"] == "applied" and healed["sources"][0]["complete"], healed
    assert healed["changes"]["deactivated"] == 1, healed["changes"]
    after = {p["email"]: p for p in site.json("users", "list")}
    assert after[victim.mailid.casefold()]["active"] is False
    assert sum(p["active"] for p in after.values()) == len(active) - 1
    site.run("sync", "--check", check=0)
    site.run("db", "verify", check=0)
    sim.set_status(victim.userid, 1)     # the module-wide simulator as the baseline saw it
