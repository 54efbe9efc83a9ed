"""An unexpected exception in a command is a bug: one line on stderr, the traceback in the log, exit 70."""

from __future__ import annotations

import argparse

import pytest

from syncd import errors
from syncd.cli import main


class _Parser:
    def parse_args(self, argv):
        def boom(_invocation):
            raise RuntimeError("boom\nsecond line")
        return argparse.Namespace(func=boom)


def test_an_unexpected_exception_exits_70_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(main, "build_parser", _Parser)
    assert main.run(["sync"], lambda *a, **k: None) == errors.INTERNAL == 70
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("syncd: ")]
    assert lines == ["syncd: internal error (RuntimeError); the traceback is in the log; please report this bug"]
    assert "Traceback" in err and "boom" in err      # the log line, on stderr as every log line
