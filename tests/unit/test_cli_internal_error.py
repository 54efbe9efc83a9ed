"""An unexpected exception in a command is a bug: one line on stderr naming the file of its traceback, exit 70."""

from __future__ import annotations

import argparse
from pathlib import Path

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
    assert len(lines) == 1 and lines[0].startswith("syncd: internal error (RuntimeError); the traceback is in "), err
    path = Path(lines[0].split("the traceback is in ")[1].split(";")[0])
    assert "Traceback" in path.read_text() and "boom\nsecond line" in path.read_text()
    assert path.stat().st_mode & 0o077 == 0
    assert "Traceback" not in err        # stderr keeps its one line (and the log line that names the file)
    path.unlink()
