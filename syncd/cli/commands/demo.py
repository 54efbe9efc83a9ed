"""`syncd demo`: the main job on embedded defaults, self-contained, in seconds, with no network.

It starts the AXL simulator on a free loopback port (HTTPS with a throw-away CA), writes a configuration that
points at it, runs a full sync into SQLite, records a purchase and host requests, runs an incremental sync
after a user turns inactive in CUCM, and prints the license report and `explain`'s answer to the question
admins ask: "an active user without a license hosts now: Permanent or Grace?". Its files stay in one directory;
a second run into that directory starts afresh (the earlier demo's files are removed first), and a directory
holding such files that no demo wrote is refused before anything is written.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncd import errors
from syncd.cli import progress
from syncd.cli.invocation import Invocation
from syncd.cli.output import text_lines
from syncd.cli.text import explain_text, license_report_text, sync_text
from syncd.licensing import admin
from syncd.logging import configure_logging
from syncd.settings import load_config
from syncd.sync.pipeline import run_sync
from syncd.views.explain import explain
from syncd.views.licenses import license_report
from syncd.views.people import users_list

if TYPE_CHECKING:
    from connectors.axlsim import Simulator

PURCHASED = 25
WRITTEN_BY = "# written by `syncd demo`"     # the first line of the configuration a demo writes
# Everything a demo writes into its directory (SQLite's side files too): what a rerun removes.
DEMO_FILES = ("syncd.toml", "syncd.db", "syncd.db-journal", "syncd.db-wal", "syncd.db-shm", "cucm.secret",
              "cucm-ca.pem")


def _start_afresh(root: Path) -> bool:
    """Remove an earlier demo's files from ``root``; True if there were any. A directory holding one of those
    names without a demo's configuration is refused (exit 65) before anything is written or removed."""
    present = [name for name in DEMO_FILES if (root / name).exists()]
    if not present:
        return False
    config = root / "syncd.toml"
    if not (config.is_file() and config.read_text(errors="replace").startswith(WRITTEN_BY)):
        raise errors.UserError(f"{root} holds {', '.join(present)}, not written by `syncd demo`; "
                               "choose another --dir")
    for name in present:
        (root / name).unlink()
    return True


def _write_config(root: Path, sim: Simulator) -> Path:
    secret = root / "cucm.secret"
    secret.write_text(sim.password + "\n")
    secret.chmod(0o600)
    assert sim.ca_file is not None
    ca = root / "cucm-ca.pem"
    shutil.copyfile(sim.ca_file, ca)
    config = root / "syncd.toml"
    config.write_text(
        f"{WRITTEN_BY}: a CUCM AXL simulator on loopback, SQLite in this directory\n"
        f'[database]\nurl = "sqlite:///{root / "syncd.db"}"\n\n'
        f'[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\nusername = "{sim.username}"\n'
        f'password_file = "{secret}"\nca_file = "{ca}"\nversion = "14.0"\nmethod = "sql"\npage_size = 1000\n\n'
        '[licenses]\ncwms_version = "2.5"\ngrace_limit = 3\n'
    )
    config.chmod(0o600)
    return config


class _Printer:
    def __init__(self, json_out: bool) -> None:
        self.json_out = json_out
        self.doc: dict[str, Any] = {}

    def section(self, title: str, lines: list[str], key: str | None = None, obj: Any = None) -> None:
        if key is not None:
            self.doc[key] = obj
        if not self.json_out:
            sys.stdout.write("\n" + text_lines([f"== {title}"]) + text_lines(lines, indent="   "))
            sys.stdout.flush()


def demo(inv: Invocation) -> int:
    a = inv.args
    return run_demo(inv, a.dir, a.users, json_out=a.json)


def run_demo(inv: Invocation, directory: str | None, users: int, json_out: bool = False) -> int:
    from connectors.axlsim import Simulator  # the demo's peer: not imported by every other command

    root = Path(directory or f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}").resolve()
    root.mkdir(parents=True, exist_ok=True)
    again = _start_afresh(root)
    out = _Printer(json_out)
    with Simulator(users, seed=1, tls=True) as sim:
        config_path = _write_config(root, sim)
        configure_logging("ERROR", "console")
        config = load_config(str(config_path))
        rt = inv.open_runtime(config)
        out.section("simulated CUCM", [f"{users} end users at {sim.url} (TLS verified with {root / 'cucm-ca.pem'})",
                                       f"configuration: {config_path}"]
                    + ([f"the earlier demo's files in {root} were removed: this run starts afresh"] if again else []))

        with progress.shown(inv.args) as watching:
            full = run_sync(rt, full=True, progress=watching)
        out.section(f"full sync (executeSQLQuery on enduser, paged) in {full.seconds:.2f} s",
                    [line for line in sync_text(full) if not line.startswith(("create ", "... and "))],
                    "full_sync", full.to_dict())
        if full.exit_code != 0:
            return full.exit_code

        bought = admin.purchase(rt, PURCHASED)
        active = [p["email"] for p in users_list(rt, state="active")]
        hosts = active[: PURCHASED - 5]
        for n, email in enumerate(hosts):
            admin.start_meeting(rt, email, f"demo-{n}")
        out.section("licenses", [bought.lines()[0], f"{len(hosts)} active users hosted a meeting"])

        asker = active[PURCHASED + 10]
        question = "an active user without a license hosts now: Permanent or Grace?"
        e = explain(rt, asker, datetime.now(UTC))
        out.section(f"explain {asker} ({question})", explain_text(e)[:4], "explain", e)

        more = active[PURCHASED - 5: PURCHASED + 2]
        extra = [admin.start_meeting(rt, email, f"demo-x{n}") for n, email in enumerate(more)]
        out.section("seven more hosts: the pool runs out",
                    [f"{email}: {o.lines()[0]}" for email, o in zip(more, extra, strict=True)])
        e2 = explain(rt, asker, datetime.now(UTC))
        out.section(f"explain {asker} again, now that no Permanent is free", explain_text(e2)[2:4],
                    "explain_after", e2)

        leaver = hosts[0]
        userid = next(u.userid for u in sim.population if u.mailid and u.mailid.casefold() == leaver)
        sim.set_status(userid, 2)
        with progress.shown(inv.args) as watching:
            inc = run_sync(rt, progress=watching)
        out.section(f"{userid} turns inactive in CUCM; incremental sync (listChange)",
                    sync_text(inc), "incremental_sync", inc.to_dict())

        report = license_report(rt, datetime.now(UTC))
        out.section("license report", license_report_text(report)[1:], "licenses", report)
    out.section("files", [f"{root}: syncd.toml, syncd.db, cucm.secret, cucm-ca.pem",
                          f"try: syncd --config {config_path} licenses report",
                          f"     syncd --config {config_path} journal --person {leaver}"])
    if json_out:
        out.doc["directory"] = str(root)
        json.dump(out.doc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    return 0
