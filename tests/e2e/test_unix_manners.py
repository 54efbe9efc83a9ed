"""The installed `syncd` behaves as a Unix command: a closed pipe ends it quietly, global options work after the
command, usage errors are one line with one prefix and a hint, `--version`, every command group's help lists its
subcommands, `-q` says nothing when nothing changed, and README's exit-code table holds every exit code."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from syncd import errors
from syncd.cli.parser import build_parser
from tests.e2e.site import SYNCD, Site, cucm_row

README = Path(__file__).resolve().parents[2] / "README.md"


def to_closed_pipe(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command with its stdout a pipe whose reader has gone (`syncd ... | head -1` once head has ended)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run([SYNCD, "--config", str(site.config), *args], cwd=site.root, stdout=writer,
                              stderr=subprocess.PIPE, text=True, timeout=120, env={**os.environ, "SYNCD_CONFIG": ""})
    finally:
        os.close(writer)


@pytest.mark.parametrize("args", [("--json", "status"), ("users", "list", "--json"), ("--help",)])
def test_a_closed_pipe_ends_quietly(site: Site, args: tuple[str, ...]):
    site.run("sync")
    proc = to_closed_pipe(site, *args)
    assert proc.stderr == "", proc.stderr
    # 128 + SIGPIPE, as a filter killed by the closed pipe; argparse's help drops a failed write itself (0)
    assert proc.returncode == (0 if args == ("--help",) else errors.BROKEN_PIPE), proc.returncode


def test_global_options_work_after_the_command(site: Site):
    site.run("sync")
    before = json.loads(site.run("--json", "status").stdout)
    proc = subprocess.run([SYNCD, "status", "--json", "--config", str(site.config)], cwd=site.root,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "SYNCD_CONFIG": ""})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["people"] == before["people"]
    # one given before the command stands: the command's own copy of the option does not reset it
    assert "installed_permanent" in json.loads(site.run("--json", "licenses", "report").stdout)
    assert json.loads(site.run("users", "show", "user1@example.com", "--json").stdout)["email"] == "user1@example.com"


def test_a_usage_error_is_one_line_with_one_prefix_and_a_hint(site: Site):
    for args in (("status", "--bogus"), ("users", "frobnicate"), ("frobnicate",), ("sync", "--source")):
        proc = site.run(*args, check=2)
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("syncd: "), proc.stderr
        assert not lines[0].startswith("syncd: syncd"), proc.stderr
        assert "--help" in lines[0], proc.stderr
    assert "syncd: users: argument CMD: invalid choice" in site.run("users", "frobnicate", check=2).stderr


def test_version(site: Site):
    proc = site.run("--version")
    assert proc.stdout.strip() == f"syncd {importlib.metadata.version('cwms-syncd')}"


def _groups(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], list[str]]]:
    """(the words of a command that takes a subcommand, its subcommands), at every level."""
    found = []
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.append((path, list(action.choices)))
            for name, sub in action.choices.items():
                found += _groups(sub, (*path, name))
    return found


def test_every_group_help_lists_its_subcommands_and_options_show_defaults(site: Site):
    for words, names in _groups(build_parser()):
        text = site.run(*words, "--help").stdout
        for name in names:
            assert re.search(rf"^\s+{re.escape(name)}\s+\S", text, re.M), f"syncd {' '.join(words)} --help: {name}"
    assert "(default: 3000)" in site.run("demo", "--help").stdout
    assert "(default: 8443)" in site.run("simulate", "cucm", "--help").stdout


def test_quiet_prints_nothing_when_nothing_changed(site: Site):
    first = site.run("sync", "-q")
    assert "created" in first.stdout            # something changed: it says so
    again = site.run("sync", "-q")
    assert again.stdout == "" and again.stderr == ""
    assert site.run("-q", "sync", "--dry-run").stdout == ""
    site.write_users({**site.rows, 1: cucm_row(1, status=2)})
    assert "deactivate" in site.run("-q", "sync", "--dry-run").stdout
    assert site.run("sync").stdout != ""         # without -q the summary shows, changes or not
    quiet = [site.run(*cmd) for cmd in (("-q", "sweep"), ("sweep", "-q"), ("db", "upgrade", "-q"))]
    assert [(p.stdout, p.stderr) for p in quiet] == [("", "")] * 3       # nothing due, nothing to say
    assert "R7" in site.run("licenses", "purchase", "2", "-q").stdout    # a change is said, -q or not
    assert site.run("sweep").stdout != ""


def test_readme_exit_code_table_holds_every_exit_code():
    table = {int(m) for m in re.findall(r"^\| (\d+) \|", README.read_text(), re.M)}
    codes = {v for k, v in vars(errors).items() if k.isupper() and isinstance(v, int)}
    assert codes <= table, sorted(codes - table)
    assert {130, 141} <= table
