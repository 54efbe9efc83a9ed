"""`syncd demo`: the main job on embedded defaults, self-contained, in seconds, with no network.

It starts the AXL simulator on a free loopback port (HTTPS with a throw-away CA), and beside it the CWMS
simulator with one account per CUCM user, writes a configuration that points at both (``push = "on"``), runs a
full sync into SQLite, records a purchase and host requests, runs an incremental sync after a user turns inactive
in CUCM, and prints the license report and `explain`'s answer to the question admins ask: "an active user without
a license hosts now: Permanent or Grace?". Then the CWMS part: the leaver's CWMS account is still ACTIVATED (a
leak: incremental runs do not read CWMS), `cwms diff` finds it, a full sync pushes it DEACTIVATED (shown from the
simulator's audit), and the simulated site's pool grows by one. Its files stay in one directory;
a second run into that directory starts afresh (the earlier demo's files are removed first), and a directory
holding such files that no demo wrote is refused before anything is written.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
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
from syncd.views import cwms as cwms_view
from syncd.views.explain import explain
from syncd.views.licenses import license_report
from syncd.views.people import users_list

if TYPE_CHECKING:
    from connectors.axlsim import Simulator
    from connectors.cwmssim import Simulator as CwmsSimulator
    from syncd.runtime import Runtime

PURCHASED = 25
WRITTEN_BY = "# written by `syncd demo`"     # the first line of the configuration a demo writes
# Everything a demo writes into its directory (SQLite's side files too): what a rerun removes.
DEMO_FILES = ("syncd.toml", "syncd.db", "syncd.db-journal", "syncd.db-wal", "syncd.db-shm", "cucm.secret",
              "cucm-ca.pem", "cwms.secret", "cwms-ca.pem")


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


def _peer_files(root: Path, name: str, password: str, ca_file: str | None) -> tuple[Path, Path]:
    """The peer's password and CA certificate, copied into the demo's directory (0600)."""
    secret = root / f"{name}.secret"
    secret.write_text(password + "\n")
    secret.chmod(0o600)
    assert ca_file is not None
    ca = root / f"{name}-ca.pem"
    shutil.copyfile(ca_file, ca)
    ca.chmod(0o600)
    return secret, ca


def _write_config(root: Path, sim: Simulator, cwms: CwmsSimulator) -> Path:
    secret, ca = _peer_files(root, "cucm", sim.password, sim.ca_file)
    cwms_secret, cwms_ca = _peer_files(root, "cwms", cwms.password, cwms.ca_file)
    config = root / "syncd.toml"
    config.write_text(
        f"{WRITTEN_BY}: a CUCM AXL simulator and a CWMS simulator on loopback, SQLite in this directory\n"
        f'[database]\nurl = "sqlite:///{root / "syncd.db"}"\n\n'
        f'[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\nusername = "{sim.username}"\n'
        f'password_file = "{secret}"\nca_file = "{ca}"\nversion = "14.0"\nmethod = "sql"\npage_size = 1000\n\n'
        '[licenses]\ncwms_version = "2.5"\ngrace_limit = 3\n\n'
        f'[cwms]\nurl = "{cwms.url}"\nsite_name = "{cwms.site_name}"\nusername = "{cwms.username}"\n'
        f'password_file = "{cwms_secret}"\nca_file = "{cwms_ca}"\npush = "on"\n'
    )
    config.chmod(0o600)
    return config


def _mirror(sim: Simulator, cwms: CwmsSimulator) -> None:
    """Give the CWMS site one account per CUCM user with an e-mail no other user has (as CWMS's own Directory
    Integration would have made them: ACTIVATED while the user is active), and a host limit of exactly the
    ACTIVATED ones: a full pool."""
    from connectors.cwmssim import SimAccount

    users = sim.population
    seen = Counter(u.mailid.casefold() for u in users if u.mailid)
    accounts = {u.userid: SimAccount(1000 + i, u.userid, u.mailid, u.firstname or "", u.lastname or "",
                                     "ACTIVATED" if u.status == 1 else "DEACTIVATED")
                for i, u in enumerate(users) if u.mailid and seen[u.mailid.casefold()] == 1}
    with cwms.lock:
        cwms.accounts = accounts
        cwms.host_limit = cwms.activated()


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
    # the demo's peers: not imported by every other command
    from connectors.axlsim import Simulator
    from connectors.cwmssim import Simulator as CwmsSimulator

    root = Path(directory or f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}").resolve()
    root.mkdir(parents=True, exist_ok=True)
    again = _start_afresh(root)
    out = _Printer(json_out)
    with Simulator(users, seed=1, tls=True) as sim, CwmsSimulator(0, tls=True) as cwms:
        _mirror(sim, cwms)
        config_path = _write_config(root, sim, cwms)
        configure_logging("ERROR", "console")
        config = load_config(str(config_path))
        rt = inv.open_runtime(config)
        out.section("simulated CUCM", [f"{users} end users at {sim.url} (TLS verified with {root / 'cucm-ca.pem'})",
                                       f"configuration: {config_path}"]
                    + ([f"the earlier demo's files in {root} were removed: this run starts afresh"] if again else []))
        out.section("simulated CWMS", [f"{len(cwms.accounts)} accounts, one per CUCM user with an e-mail of its own, "
                                       f"at {cwms.url}",
                                       f'{cwms.activated()} ACTIVATED, host limit {cwms.host_limit}; push = "on"'])

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

        code = _cwms_part(inv, rt, cwms, userid, out)
        if code != 0:
            return code
    out.section("files", [f"{root}: syncd.toml, syncd.db, cucm.secret, cucm-ca.pem, cwms.secret, cwms-ca.pem",
                          f"try: syncd --config {config_path} licenses report",
                          f"     syncd --config {config_path} journal --person {leaver}"])
    if json_out:
        out.doc["directory"] = str(root)
        json.dump(out.doc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    return 0


def _cwms_part(inv: Invocation, rt: Runtime, cwms: CwmsSimulator, userid: str, out: _Printer) -> int:
    """The leaver's CWMS account, still ACTIVATED, found by `cwms diff` and pushed DEACTIVATED by a full sync."""
    found = cwms_view.diff(rt)
    out.section(f"{userid} in CWMS: syncd cwms diff (incremental runs do not read CWMS)",
                [f"leaks: {len(found['leaks'])}"]
                + [f"{x['email']} is inactive in syncd, its account {x['webex_id']} is ACTIVATED: CWMS still binds "
                   "its host license" for x in found["leaks"]], "cwms_diff", found)
    before, limit, seen = cwms.activated(), cwms.host_limit or 0, len(cwms.audit())
    with progress.shown(inv.args) as watching:
        full = run_sync(rt, full=True, progress=watching)
    c = full.to_dict().get("cwms", {})
    lines = [f"cwms: {c.get('read')} accounts read, leaks: {c.get('leaks')}; pushed {c.get('pushed')}, failed "
             f"{c.get('push_failed')}, pending {c.get('pending')}"]
    writes = cwms.audit()[seen:]
    lines += [f"the simulated CWMS's audit: {w['op']} {w['webex_id']} active={w['after']}: {w['result']} "
              f"(was {w['before']})" for w in writes]
    after = cwms.activated()
    lines.append(f"the simulated CWMS's pool: {limit - before} host licenses free before, {limit - after} after "
                 f"({before} ACTIVATED accounts, then {after})")
    out.section('full sync with push = "on": the leak pushed to CWMS', lines, "cwms_sync", full.to_dict())
    out.doc["cwms_site"] = {"host_limit": limit, "activated_before": before, "activated_after": after,
                            "writes": writes}
    return full.exit_code
