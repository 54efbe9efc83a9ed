"""A pytest plugin that fails the run when a secret the tests use shows up in any output (issue 7, "Security checks").

It knows the secrets the run uses: the Samba passwords, every AXL simulator's password, the secrets tests write
for syncd (tests/e2e/site.py ``Command.write_secret``: passwords and API tokens) and anything a test hands to
:func:`register`. It scans what pytest captured for each test (stdout, stderr and log sections, failure reports)
and what each helper hands to :func:`feed`: the output of every ``syncd`` command (tests/e2e/site.py) and the log of
every daemon (tests/integration/daemon/harness.py). A secret is looked for as it is, JSON-escaped and URL-encoded.

At the end it writes ``secret scan: N outputs, M bytes, K secrets found`` to the terminal summary; when K > 0 the
run fails, each finding naming the test, the output and the secret's name, never its value.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

MIN_LENGTH = 8      # a shorter value would be found by chance in ordinary text


@dataclass
class Scanner:
    """The secrets (value -> name), what was scanned and what was found."""

    secrets: dict[str, str] = field(default_factory=dict)
    outputs: int = 0
    size: int = 0
    findings: list[str] = field(default_factory=list)
    test: str = "(outside any test)"

    def register(self, value: str, name: str) -> None:
        if len(value) < MIN_LENGTH:
            raise ValueError(f"secret {name!r} is shorter than {MIN_LENGTH} characters: it cannot be scanned for")
        for form in {value, json.dumps(value)[1:-1], quote(value, safe="")}:
            self.secrets.setdefault(form, name)

    def scan(self, where: str, text: str) -> list[str]:
        """Scan one output; return (and keep) the names of the secrets found in it."""
        if not text:
            return []
        self.outputs += 1
        self.size += len(text)
        found = sorted({name for value, name in self.secrets.items() if value in text})
        self.findings += [f"{self.test}: {where}: {name}" for name in found]
        return found

    def summary(self) -> str:
        return f"secret scan: {self.outputs} outputs, {self.size} bytes, {len(self.findings)} secrets found"


SCANNER = Scanner()


def register(value: str, name: str) -> None:
    """Make ``value`` a secret that no output of this run may contain; ``name`` is what a finding says."""
    SCANNER.register(value, name)


def feed(where: str, text: str) -> None:
    """Scan one output of the running test, ``where`` saying what it is (e.g. the command line)."""
    SCANNER.scan(where, text)


def _register_known() -> Callable[[], None]:
    """Register the fixed Samba passwords, and every AXL simulator's password as it is made. Returns the undo."""
    from connectors.axlsim import Simulator
    from tests.integration.samba.harness import ADMIN_PASSWORD, SERVICE_PASSWORD

    register(ADMIN_PASSWORD, "Samba ADMIN_PASSWORD")
    register(SERVICE_PASSWORD, "Samba SERVICE_PASSWORD")
    original = Simulator.__init__

    @functools.wraps(original)
    def init(self: Simulator, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        register(self.password, "AXL simulator password")

    Simulator.__init__ = init  # type: ignore[method-assign]

    def undo() -> None:
        Simulator.__init__ = original  # type: ignore[method-assign]

    return undo


def pytest_configure(config: pytest.Config) -> None:
    config.add_cleanup(_register_known())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    SCANNER.test = item.nodeid
    try:
        return (yield)
    finally:
        SCANNER.test = "(outside any test)"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Each phase's report repeats the sections of the phases before it: the teardown report has them all.
    if report.when == "teardown":
        for title, content in report.sections:
            feed(title, content)
    if report.longrepr is not None:
        feed(f"report of the {report.when} phase", str(report.longrepr))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(SCANNER.summary())
    for finding in SCANNER.findings:
        terminalreporter.write_line(f"secret scan: LEAK in {finding}", red=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if SCANNER.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
