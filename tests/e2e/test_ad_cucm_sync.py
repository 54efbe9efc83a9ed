"""`syncd sync` with both sources: the AXL simulator (HTTPS) and a real Samba AD DC (LDAPS), as an admin runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import Command
from tests.integration.samba.harness import SambaDC


class Site(Command):
    def __init__(self, root: Path, db_url: str, sim: Simulator, dc: SambaDC) -> None:
        self.root = root
        cucm_secret = self.write_secret("cucm.secret", sim.password)
        ad_secret = self.write_secret("ad.secret", dc.password)
        self.config.write_text(
            f'[database]\nurl = "{db_url}"\n\n'
            f'[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\nusername = "{sim.username}"\n'
            f'password_file = "{cucm_secret}"\nca_file = "{sim.ca_file}"\nretries = 1\n\n'
            f'[[sources.ad]]\nname = "ad"\nurls = ["{dc.url}"]\nbind_dn = "{dc.bind_dn}"\n'
            f'password_file = "{ad_secret}"\nca_file = "{dc.ca_file}"\ntls_name = "{dc.tls_name}"\n'
            f'base_dns = ["{dc.users_ou}"]\nhost_group = "{dc.host_group_dn}"\npage_size = 500\n'
            'connect_timeout = 3\nreceive_timeout = 20\n\n'
            '[licenses]\ngrace_limit = 2\n')
        self.config.chmod(0o600)


@pytest.mark.samba
def test_both_sources(tmp_path: Path, db_url: str, samba_fresh: SambaDC):
    dc = samba_fresh
    eligible = [u for u in dc.seed.live() if not u.disabled and u.expires is None and u.group is not None]
    a, b, c, d = (u.sam for u in eligible[:4])
    outside = next(u.sam for u in dc.seed.live() if not u.disabled and u.expires is None and u.group is None)
    with Simulator(30, seed=5, tls=True) as sim:
        for sam in (a, c, d, outside):
            sim.add_user(sam, f"{sam}@syncd.test", "Seeded", sam, status=1, ldap=True)
        sim.add_user(b, f"{b.upper()}@SYNCD.test", "Local", b, status=1, ldap=False)   # matched in AD by mail
        site = Site(tmp_path, db_url, sim, dc)
        first = site.json("sync")
        assert first["result"] == "applied", first
        assert [s["complete"] for s in first["sources"]] == [True, True]
        ppl = site.people()
        for sam in (a, b, c, d):
            assert ppl[f"{sam}@syncd.test"]["active"] is True, ppl[f"{sam}@syncd.test"]
            assert ppl[f"{sam}@syncd.test"]["management"] == "remote"
        assert ppl[f"{outside}@syncd.test"]["active"] is False        # not in the host group
        assert first["ad_only"] > 900                                  # AD accounts with no CUCM user: counted

        site.run("licenses", "purchase", "5")
        for sam in (a, d):
            assert site.json("meetings", "start", f"{sam}@syncd.test")["license_kind"] == "permanent"

        dc.disable(a)               # disabled in AD, still status 1 in CUCM
        sim.set_status(d, 2)        # enabled in AD, status 2 in CUCM
        out = site.json("sync")
        assert out["changes"]["deactivated"] == 2 and out["licenses"]["released"] == 2, out
        ppl = site.people()
        assert ppl[f"{a}@syncd.test"]["inactive_reason"] == "disabled in AD"
        assert ppl[f"{a}@syncd.test"]["license"] is None and ppl[f"{d}@syncd.test"]["license"] is None
        released = {r["person"]: r for r in site.json("journal") if r["rule"] == "R5"}
        assert released[f"{a}@syncd.test"]["source"] == "ad"
        assert released[f"{d}@syncd.test"]["source"] == "cucm"
        assert site.json("licenses", "report")["free_permanent"] == 5

        # The DC goes away: the AD batch is incomplete, exit 69, nobody is deactivated because of it.
        before = site.people()
        dc.stop()
        try:
            proc = site.run("sync", "--full", check=69)
        finally:
            dc.start()
        assert "source ad unavailable" in proc.stderr
        assert site.people() == before
        site.run("sync", "--check")
        site.run("db", "verify")
