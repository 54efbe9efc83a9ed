"""The secret scan (tests/secretscan.py) finds a registered secret in any form it looks for, and fails a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.secretscan import Scanner

REPO = Path(__file__).resolve().parents[2]
VALUE = 'Leaky!"Pass\\word/42'


@pytest.mark.parametrize("text", [f"password={VALUE}", json.dumps({"password": VALUE}),
                                  f"GET /x?password={quote(VALUE, safe='')}"],
                         ids=["plain", "json", "url-encoded"])
def test_a_registered_secret_is_found_by_name(text: str) -> None:
    scanner = Scanner(test="t::leak")
    scanner.register(VALUE, "the test password")
    assert scanner.scan("stderr", "nothing to see") == []
    assert scanner.scan("stdout", text) == ["the test password"]
    assert scanner.findings == ["t::leak: stdout: the test password"]
    assert scanner.summary() == f"secret scan: 2 outputs, {14 + len(text)} bytes, 1 secrets found"


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter than 8"):
        Scanner().register("pw", "short")


LEAKY_TEST = f'''
from tests import secretscan

def test_prints_a_registered_secret():
    secretscan.register({VALUE!r}, "the test password")
    print("connecting with", {VALUE!r})

def test_prints_nothing_secret():
    print("no secret here")
'''


def test_a_run_whose_output_holds_a_secret_fails_naming_the_test_and_the_secret(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.secretscan", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "2 passed" in out                                   # the tests passed: the scan alone failed the run
    assert "secret scan: 2 outputs" in out and "1 secrets found" in out, out
    assert "secret scan: LEAK in test_leaky.py::test_prints_a_registered_secret: Captured stdout call: " \
           "the test password" in out, out
    assert VALUE not in out
