"""`syncd sync` against an AXL peer with TLS gone wrong, as an admin meets it (issue 7, "Security checks"): an
expired certificate is a source that cannot be read (exit 69, one line naming the source and the certificate
problem, nobody deactivated); plain http:// is a configuration error (exit 78) unless insecure = true.

SQLite only: what is checked here happens before the store is touched.
"""

from __future__ import annotations

import json
from pathlib import Path

from connectors.axlsim import Simulator
from connectors.axlsim.tlsgen import ServerCert
from tests.e2e.site import Command


class AxlSite(Command):
    """A site reading one CUCM source, the simulator ``sim``, into SQLite."""

    def __init__(self, root: Path, sim: Simulator, insecure: bool = False) -> None:
        self.root, self.db = root, root / "syncd.db"
        self.point_at(sim, insecure)

    def point_at(self, sim: Simulator, insecure: bool = False) -> None:
        """(Re)write the configuration for ``sim``. The safety gate lets any deactivation through: a batch read
        wrongly as complete would show as deactivations, not as a refusal."""
        secret = self.write_secret("cucm.secret", sim.password)
        ca = f'ca_file = "{sim.ca_file}"\n' if sim.ca_file else ""
        self.config.write_text(
            f'[database]\nurl = "sqlite:///{self.db}"\n\n[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\n'
            f'username = "{sim.username}"\npassword_file = "{secret}"\n{ca}insecure = {str(insecure).lower()}\n'
            'retries = 0\n\n[safety]\nmax_deactivation_ratio = 1.0\nmax_deactivations = 100000\n')
        self.config.chmod(0o600)


def error_line(stderr: str) -> str:
    """The one line of stderr that is not a JSON log line (the run's log goes to stderr too); no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not _is_log_line(line)]
    assert len(lines) == 1, stderr
    return lines[0]


def _is_log_line(line: str) -> bool:
    try:
        return "event" in json.loads(line)
    except ValueError:
        return False


def test_an_expired_certificate_exits_69_with_one_line_and_deactivates_nobody(tmp_path: Path) -> None:
    with Simulator(200, seed=4, tls=True) as good:
        site = AxlSite(tmp_path, good)
        first = site.json("sync")
    assert first["result"] == "applied" and first["sources"][0]["complete"]
    before = site.json("users", "list")
    assert sum(p["active"] for p in before) > 50

    with Simulator(200, seed=4, tls=True, cert=ServerCert(expired=True)) as expired:   # same users, same CA setup
        site.point_at(expired)
        proc = site.run("sync", check=69)
        served = expired.request_count
    line = error_line(proc.stderr)
    assert "cucm" in line and "certificate has expired" in line, line
    assert served == 0                                   # refused in the handshake: no AXL request was answered
    assert site.json("users", "list") == before          # nobody deactivated, nothing changed


def test_plain_http_is_a_configuration_error_unless_insecure(tmp_path: Path) -> None:
    with Simulator(50, seed=4) as plain:
        site = AxlSite(tmp_path, plain)
        refused = site.run("sync", check=78)
        line = error_line(refused.stderr)
        assert "sources.cucm[0].url" in line and "insecure = true" in line, line
        assert plain.request_count == 0

        site.point_at(plain, insecure=True)
        out = site.json("sync")
    assert out["result"] == "applied" and out["sources"][0]["complete"], out
    assert len(site.json("users", "list")) > 0
