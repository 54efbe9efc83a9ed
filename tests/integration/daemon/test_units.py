"""The systemd units pass `systemd-analyze verify`, and syncd.service's `security` exposure is at most 2.0."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[3] / "systemd"
NAMES = ("syncd.service", "syncd-sync.service", "syncd-sync.timer")
ANALYZE = shutil.which("systemd-analyze")
SYNCD = Path(sys.executable).parent / "syncd"



@pytest.fixture(autouse=True)
def _needs_systemd_analyze() -> None:
    """Skip without systemd-analyze, or fail when SYNCD_REQUIRE_SYSTEMD=1 (CI installs Debian's systemd)."""
    if ANALYZE is None:
        reason = "systemd-analyze is not installed (Debian: systemd)"
        if os.environ.get("SYNCD_REQUIRE_SYSTEMD") == "1":
            pytest.fail(reason + " and SYNCD_REQUIRE_SYSTEMD=1", pytrace=False)
        pytest.skip(reason)


def _analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_units_verify(tmp_path: Path):
    # verify also checks that ExecStart= is executable: point it at this checkout's syncd, which exists here
    for name in NAMES:
        text = (UNITS / name).read_text()
        assert name.endswith(".timer") or "/usr/local/bin/syncd " in text, name
        (tmp_path / name).write_text(text.replace("/usr/local/bin/syncd", str(SYNCD)))
    proc = _analyze("verify", "--man=no", *NAMES, cwd=tmp_path)
    problems = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 0 and not problems, problems


def test_daemon_unit_shape():
    text = (UNITS / "syncd.service").read_text()
    for line in ("Type=notify", "Restart=on-failure", "StateDirectory=syncd", "DynamicUser=yes",
                 "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                 "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service"):
        assert re.search(rf"^{re.escape(line)}$", text, re.MULTILINE), line
    assert re.search(r"^WatchdogSec=\d+", text, re.MULTILINE) and re.search(r"^LoadCredential=", text, re.MULTILINE)
    assert "SuccessExitStatus=75" in (UNITS / "syncd-sync.service").read_text()


@pytest.mark.parametrize("name", ["syncd.service", "syncd-sync.service"])
def test_security_exposure_at_most_2(name: str):
    proc = _analyze("security", "--offline=true", "--no-pager", name, cwd=UNITS)
    m = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+)", proc.stdout + proc.stderr)
    assert m, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert float(m.group(1)) <= 2.0, f"{name}: exposure {m.group(1)}"
