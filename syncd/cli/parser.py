"""The `syncd` command line: every command and option, each command bound to its handler with
``set_defaults(func=...)``. ``--json`` is a global option and every read command honours it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from syncd import errors
from syncd.cli.commands import demo, licenses, people, sync, tools
from syncd.licensing import inputs

T = TypeVar("T")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise errors.UsageError(f"{self.prog}: {message}")


def _checked(check: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type: ``check``, whose usage error becomes argparse's one-line error for the argument."""
    def convert(text: str) -> T:
        try:
            return check(text)
        except errors.UsageError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return convert


def _time(text: str) -> datetime:
    """`--at`, `--expires`, `--start`, `--since`: a date (00:00 UTC) or an ISO 8601 time (UTC when no offset is
    given)."""
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.UsageError(f"not a date or ISO 8601 time: {text!r}") from None
    return inputs.time(t if t.tzinfo else t.replace(tzinfo=UTC))


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise errors.UsageError(f"not a whole number: {text!r}") from None


def _count(text: str) -> int:
    return inputs.count(_number(text))


def _row_limit(text: str) -> int:
    return inputs.row_limit(_number(text))


def _port(text: str) -> int:
    port = _number(text)
    if not 0 <= port <= 65535:
        raise errors.UsageError("port must be from 0 to 65535")
    return port


parse_time = _checked(_time)
count = _checked(_count)
row_limit = _checked(_row_limit)
port = _checked(_port)
email = _checked(inputs.email)
meeting_id = _checked(inputs.meeting_id)
grant_id = _checked(inputs.grant_id)
source_name = _checked(inputs.source_name)


Commands = argparse._SubParsersAction  # what add_subparsers returns: where the commands of a level are added


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="syncd", description="CWMS host-license directory sync (CUCM AXL + Active Directory)")
    p.add_argument("--config", metavar="PATH",
                   help="configuration file (default $SYNCD_CONFIG or /etc/syncd/syncd.toml)")
    p.add_argument("--json", action="store_true", help="print JSON (read commands)")
    v = p.add_mutually_exclusive_group()
    v.add_argument("-v", "--verbose", action="count", default=0)
    v.add_argument("-q", "--quiet", action="store_true")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _sync_commands(sub)
    _people_commands(sub)
    _license_commands(sub)
    _meeting_commands(sub)
    _tool_commands(sub)
    return p


def _group(sub: Commands, name: str, help: str, metavar: str = "CMD") -> Commands:
    """A command that takes a subcommand (``syncd users list``)."""
    group = sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_cmd", metavar=metavar, parser_class=_Parser)
    group.required = True
    return group


def _sync_commands(sub: Commands) -> None:
    s = sub.add_parser("sync", help="one sync run")
    s.set_defaults(func=sync.sync)
    s.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    s.add_argument("--check", action="store_true", help="exit 1 when changes are pending; write nothing")
    s.add_argument("--full", action="store_true", help="full reads instead of incremental ones")
    s.add_argument("--source", action="append", type=source_name, metavar="NAME",
                   help="only this source (repeatable)")
    s.add_argument("--allow-mass-deactivation", action="store_true", help="override the safety gate once")
    sub.add_parser("run", help="the daemon: scheduler and HTTP API").set_defaults(func=tools.run)
    sub.add_parser("status", help="last runs, cursors, warnings").set_defaults(func=sync.status)


def _people_commands(sub: Commands) -> None:
    u = _group(sub, "users", "people and their licenses")
    ul = u.add_parser("list")
    ul.set_defaults(func=people.users_list)
    ul.add_argument("--state", choices=["active", "inactive"])
    ul.add_argument("--license", choices=["trial", "permanent", "grace", "demonstration", "none"])
    us = u.add_parser("show")
    us.set_defaults(func=people.users_show)
    us.add_argument("email", type=email)

    e = sub.add_parser("explain", help="what hosting would do for one person, and why")
    e.set_defaults(func=people.explain)
    e.add_argument("email", type=email)
    e.add_argument("--at", type=parse_time, metavar="DATE", help="ask about a date or time (default now)")

    j = sub.add_parser("journal", help="the audit trail")
    j.set_defaults(func=people.journal)
    j.add_argument("--person", type=email, metavar="EMAIL")
    j.add_argument("--since", type=parse_time, metavar="T")
    j.add_argument("--limit", type=row_limit, default=None)

    sub.add_parser("conflicts", help="standing conflicts with their records").set_defaults(func=people.conflicts)


def _license_commands(sub: Commands) -> None:
    lic = _group(sub, "licenses", "license report and admin actions")
    lr = lic.add_parser("report")
    lr.set_defaults(func=licenses.report)
    lr.add_argument("--at", type=parse_time, metavar="DATE")
    lp = lic.add_parser("purchase")
    lp.set_defaults(func=licenses.purchase)
    lp.add_argument("count", type=count)
    ld = lic.add_parser("demo")
    ld.set_defaults(func=licenses.demo)
    ld.add_argument("count", type=count)
    ld.add_argument("--expires", type=parse_time, required=True, metavar="DATE")
    ld.add_argument("--id", dest="grant_id", type=grant_id, metavar="ID", help="grant id (default generated)")
    lt = lic.add_parser("trial")
    lt.set_defaults(func=licenses.trial)
    lt.add_argument("--start", type=parse_time, required=True, metavar="DATE")
    lres = lic.add_parser("reserve")
    lres.set_defaults(func=licenses.reserve)
    lres.add_argument("email", type=email)
    lu = lic.add_parser("upgrade")
    lu.set_defaults(func=licenses.upgrade)
    lu.add_argument("--to", choices=["2.5"], required=True)
    sub.add_parser("sweep", help="expiry processing now").set_defaults(func=licenses.sweep)


def _meeting_commands(sub: Commands) -> None:
    m = _group(sub, "meetings", "host requests")
    ms = m.add_parser("start")
    ms.set_defaults(func=licenses.meeting_start)
    ms.add_argument("email", type=email)
    ms.add_argument("--meeting", type=meeting_id, metavar="ID")
    me = m.add_parser("end")
    me.set_defaults(func=licenses.meeting_end)
    me.add_argument("meeting_id", type=meeting_id)


def _tool_commands(sub: Commands) -> None:
    c = _group(sub, "config", "configuration tools")
    c.add_parser("check").set_defaults(func=tools.config_check)
    c.add_parser("example").set_defaults(func=tools.config_example)
    d = _group(sub, "db", "database tools")
    d.add_parser("upgrade").set_defaults(func=tools.db_upgrade)
    d.add_parser("verify", help="check the license invariants and that the journal replays to the ledger"
                 ).set_defaults(func=tools.db_verify)

    dm = sub.add_parser("demo", help="run a self-contained demonstration on the AXL simulator")
    dm.set_defaults(func=demo.demo)
    dm.add_argument("--dir", metavar="DIR", help="where to leave the demo's files (default ./demo-TIMESTAMP)")
    dm.add_argument("--users", type=count, default=3000)

    sim = _group(sub, "simulate", "test peers", metavar="PEER")
    sc = sim.add_parser("cucm", help="the AXL simulator")
    sc.set_defaults(func=tools.simulate_cucm)
    sc.add_argument("--users", type=count, default=1000)
    sc.add_argument("--port", type=port, default=8443)
    sc.add_argument("--seed", type=int, default=1)
    sc.add_argument("--tls", action="store_true")
