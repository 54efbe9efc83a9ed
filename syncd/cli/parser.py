"""The `syncd` command line: every command and option, each command bound to its handler with
``set_defaults(func=...)``. ``--json`` is a global option and every read command honours it."""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from syncd import errors
from syncd.cli.commands import alerts, check, cwms, demo, licenses, meetings, people, push, sync, tools
from syncd.licensing import inputs
from syncd.settings.durations import parse_duration

T = TypeVar("T")


class _Help(argparse.HelpFormatter):
    """Help that ends an option's line with its default, where it has one worth saying (not None, off or 0)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        d = action.default
        if ("%(default)" in text or d is None or d is False or d is argparse.SUPPRESS or d == 0
                or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        """One line, for :func:`syncd.cli.output.fail` to prefix with "syncd: ": the command it is about (none at
        the top) and where its usage is."""
        command = self.prog.removeprefix("syncd").strip()
        raise errors.UsageError(f"{command + ': ' if command else ''}{message} (see: {self.prog} --help)")


def _checked(check: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type: ``check``, whose usage error becomes argparse's one-line error for the argument."""
    def convert(text: str) -> T:
        try:
            return check(text)
        except errors.UsageError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return convert


TIME_HELP = "a date (00:00 UTC) or an ISO 8601 time with its UTC offset (2026-03-01T09:30:00+01:00, or Z for UTC)"


def _time(text: str) -> datetime:
    """`--at`, `--expires`, `--start`, `--since`: a date (00:00 UTC) or an ISO 8601 time with its offset. A time
    without one is refused rather than taken as UTC: an admin typing a local time would get an answer for
    another hour without noticing."""
    try:
        return inputs.time(datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC))
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.UsageError(f"not a date or ISO 8601 time: {text!r}") from None
    if t.tzinfo is None:
        raise errors.UsageError(f"{text.strip()!r} has no UTC offset: add one, such as {t.isoformat()}Z (UTC) or "
                                f"{t.isoformat()}+01:00")
    return inputs.time(t)


RELATIVE_SINCE = "1h, 30m, 2d (that long ago), today or yesterday (00:00 UTC)"


def _since(text: str, now: datetime | None = None) -> datetime:
    """`journal --since`: a time as `_time` takes it, or one relative to now (:data:`RELATIVE_SINCE`)."""
    now = now or datetime.now(UTC)
    word = text.strip().lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if word in ("today", "yesterday"):
        return midnight - timedelta(days=1 if word == "yesterday" else 0)
    if word[:1].isdigit() and not word[-1:].isdigit() and "-" not in word:
        try:
            ago = parse_duration(word)
        except ValueError as e:
            raise errors.UsageError(f"{e} (or {RELATIVE_SINCE})") from None
        try:
            return inputs.time(now - ago)
        except OverflowError:
            raise errors.UsageError(f"{text!r} is too long ago") from None
    return _time(text)


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
parse_since = _checked(_since)
count = _checked(_count)
row_limit = _checked(_row_limit)
port = _checked(_port)
email = _checked(inputs.email)
meeting_id = _checked(inputs.meeting_id)
grant_id = _checked(inputs.grant_id)
source_name = _checked(inputs.source_name)


Commands = argparse._SubParsersAction  # what add_subparsers returns: where the commands of a level are added


def _global_options(p: argparse.ArgumentParser, default: object = None) -> None:
    """``--config``, ``--json``, ``-v`` and ``-q``: on the top parser with their defaults, and on every command's
    parser with ``default`` SUPPRESS, so that they work after the command too and one given before it stands."""
    def d(value: object) -> object:
        return value if default is None else default
    p.add_argument("--config", metavar="PATH", default=d(None),
                   help="configuration file (default: $SYNCD_CONFIG, else /etc/syncd/syncd.toml)")
    p.add_argument("--json", action="store_true", default=d(False), help="print JSON instead of text")
    v = p.add_mutually_exclusive_group()
    v.add_argument("-v", "--verbose", action="count", default=d(0), help="log lines on stderr (-vv: debug)")
    v.add_argument("-q", "--quiet", action="store_true", default=d(False),
                   help="no log lines; `sync` prints nothing when nothing changed")


def _commands(p: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's parser below ``p``, at every level (``users``, ``users list``, ...)."""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                if command.prog.endswith(f" {name}"):       # an alias's entry is the same parser again
                    yield command
                    yield from _commands(command)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="syncd", description="CWMS host-license directory sync (CUCM AXL + Active Directory)")
    p.add_argument("--version", action="version", version=f"syncd {importlib.metadata.version('cwms-syncd')}")
    _global_options(p)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _sync_commands(sub)
    _people_commands(sub)
    _license_commands(sub)
    _meeting_commands(sub)
    _cwms_commands(sub)
    _tool_commands(sub)
    for command in _commands(p):
        _global_options(command, default=argparse.SUPPRESS)
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
    pu = sub.add_parser("push", help="send the CWMS outbox's pending writes now (SetUser active)")
    pu.set_defaults(func=push.push)
    pu.add_argument("--dry-run", action="store_true", help="read the accounts and say what would be written; "
                    "write nothing")


def _people_commands(sub: Commands) -> None:
    u = _group(sub, "users", "people and their licenses")
    ul = u.add_parser("list", help="people with their state and license")
    ul.set_defaults(func=people.users_list)
    ul.add_argument("--state", choices=["active", "inactive"], help="only people in this state")
    ul.add_argument("--license", choices=["trial", "permanent", "grace", "demonstration", "none"],
                    help="only holders of this kind (none: without a license)")
    us = u.add_parser("show", help="one person: source records and license")
    us.set_defaults(func=people.users_show)
    us.add_argument("email", type=email)

    e = sub.add_parser("explain", help="what hosting would do for one person, and why")
    e.set_defaults(func=people.explain)
    e.add_argument("email", type=email)
    e.add_argument("--at", type=parse_time, metavar="T",
                   help=f"ask about {TIME_HELP} (default now); a past time is answered from the journal")

    j = sub.add_parser("journal", help="the audit trail")
    j.set_defaults(func=people.journal)
    j.add_argument("--person", type=email, metavar="EMAIL", help="only rows about this person")
    j.add_argument("--since", type=parse_since, metavar="T", help=f"rows from {TIME_HELP}, or {RELATIVE_SINCE}")
    j.add_argument("--limit", type=row_limit, default=None, help="at most this many rows")

    sub.add_parser("conflicts", help="standing conflicts with their records").set_defaults(func=people.conflicts)


def _license_commands(sub: Commands) -> None:
    lic = _group(sub, "licenses", "license report and admin actions")
    lr = lic.add_parser("report", help="installed, in use, free, Grace expiring, notices")
    lr.set_defaults(func=licenses.report)
    lr.add_argument("--at", type=parse_time, metavar="T", help=f"as at {TIME_HELP}, as if a sweep ran then; "
                    "a past time is answered from the journal")
    lp = lic.add_parser("purchase", help="record N Permanent licenses bought (R7)")
    lp.set_defaults(func=licenses.purchase)
    lp.add_argument("count", type=count)
    ld = lic.add_parser("demo", help="a grant of N Demonstration licenses until --expires")
    ld.set_defaults(func=licenses.demo)
    ld.add_argument("count", type=count)
    ld.add_argument("--expires", type=parse_time, required=True, metavar="DATE", help="when the grant ends")
    ld.add_argument("--id", dest="grant_id", type=grant_id, metavar="ID", help="grant id (default generated)")
    lt = lic.add_parser("trial", help="open the site's trial window")
    lt.set_defaults(func=licenses.trial)
    lt.add_argument("--start", type=parse_time, required=True, metavar="DATE", help="when the trial starts")
    lres = lic.add_parser("reserve", help="give an active person a free Permanent license (R9)")
    lres.set_defaults(func=licenses.reserve)
    lres.add_argument("email", type=email)
    lu = lic.add_parser("upgrade", help="the site was upgraded: release every license (R12)")
    lu.set_defaults(func=licenses.upgrade)
    lu.add_argument("--to", choices=["2.5"], required=True, help="the CWMS version upgraded to")
    ls = lic.add_parser("set-installed", help="correct the installed Permanent count (a mistyped purchase)")
    ls.set_defaults(func=licenses.set_installed)
    ls.add_argument("count", type=_checked(lambda text: inputs.installed(_number(text))))
    li = lic.add_parser("import", help="adopt the site's holdings from CSV: email,kind,assigned_at"
                        "[,first_grace_at][,expires_at]")
    li.set_defaults(func=licenses.import_holdings)
    li.add_argument("file", metavar="FILE", help="UTF-8 or UTF-16 (with BOM), comma or tab separated")
    sw = sub.add_parser("sweep", help="expiry processing now")
    sw.set_defaults(func=licenses.sweep)
    for action in (lp, ld, lt, lres, lu, ls, li, sw):
        action.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")


def _cwms_commands(sub: Commands) -> None:
    c = _group(sub, "cwms", "the CWMS site's accounts: drift, adoption, offline export")
    c.add_parser("diff", help="leaks, blocked people and unmatched accounts, read from CWMS now"
                 ).set_defaults(func=cwms.diff)
    ci = c.add_parser("import", help="adopt every CWMS account's state as a fact (assigns no license)")
    ci.set_defaults(func=cwms.adopt)
    ci.add_argument("--dry-run", action="store_true", help="show what would change, store nothing")
    ce = c.add_parser("export", help="a CWMS user-import CSV deactivating the inactive people (offline sites)")
    ce.set_defaults(func=cwms.export)
    ce.add_argument("--deactivations", required=True, metavar="FILE", help="the CSV to write (ACTIVE=N rows)")
    ce.add_argument("--encoding", choices=("utf-8", "utf-16"), default="utf-8",
                    help="utf-8 (comma) or utf-16 (UTF-16LE with BOM, tab: the guide's Unicode file)")


def _meeting_commands(sub: Commands) -> None:
    m = _group(sub, "meetings", "host requests and the open meetings")
    ms = m.add_parser("start", help="a host request; prints the meeting id that `meetings end` takes")
    ms.set_defaults(func=meetings.meeting_start)
    ms.add_argument("email", type=email)
    ms.add_argument("--meeting", type=meeting_id, metavar="ID", help="meeting id (default generated)")
    me = m.add_parser("end", help="end a meeting by its id")
    me.set_defaults(func=meetings.meeting_end)
    me.add_argument("meeting_id", type=meeting_id)
    ml = m.add_parser("list", help="the open meetings")
    ml.set_defaults(func=meetings.meetings_list)
    ml.add_argument("--host", type=email, metavar="EMAIL", help="only this host's")


def _tool_commands(sub: Commands) -> None:
    ck = sub.add_parser("check", help="test each source's connection: reach, TLS, authenticate, version, one read")
    ck.set_defaults(func=check.check)
    ck.add_argument("--source", action="append", type=source_name, metavar="NAME",
                    help="only this source, or cwms for the [cwms] site (repeatable)")
    al = _group(sub, "alerts", "alerts: test the configured receivers")
    al.add_parser("test", help="send a test alert to every configured URL and report each result (exit 69 when "
                  "one failed)").set_defaults(func=alerts.alerts_test)
    c = _group(sub, "config", "configuration tools")
    c.add_parser("check", help="validate the configuration and read its secrets").set_defaults(func=tools.config_check)
    c.add_parser("example", help="print the documented example configuration").set_defaults(
        func=tools.config_example)
    d = _group(sub, "db", "database tools")
    d.add_parser("upgrade", help="apply the migrations (every start does too)").set_defaults(func=tools.db_upgrade)
    d.add_parser("verify", help="check the license invariants and that the journal replays to the ledger"
                 ).set_defaults(func=tools.db_verify)

    dm = sub.add_parser("demo", help="run a self-contained demonstration on the AXL simulator")
    dm.set_defaults(func=demo.demo)
    dm.add_argument("--dir", metavar="DIR", help="where to leave the demo's files (default ./demo-TIMESTAMP)")
    dm.add_argument("--users", type=count, default=3000, help="simulated CUCM end users")

    sim = _group(sub, "simulate", "test peers", metavar="PEER")
    sc = sim.add_parser("cucm", help="the AXL simulator")
    sc.set_defaults(func=tools.simulate_cucm)
    sc.add_argument("--users", type=count, default=1000, help="end users to generate")
    sc.add_argument("--port", type=port, default=8443, help="loopback port (0: any free one)")
    sc.add_argument("--seed", type=int, default=1, help="the generated population's seed")
    sc.add_argument("--tls", action="store_true", help="HTTPS with a throw-away CA")
    sw = sim.add_parser("cwms", help="the CWMS simulator (XML API user service, /control/ endpoint)")
    sw.set_defaults(func=tools.simulate_cwms)
    sw.add_argument("--users", type=count, default=1000, help="accounts to generate")
    sw.add_argument("--port", type=port, default=8444, help="loopback port (0: any free one)")
    sw.add_argument("--seed", type=int, default=1, help="the generated accounts' seed")
    sw.add_argument("--tls", action="store_true", help="HTTPS with a throw-away CA")
    sw.add_argument("--host-limit", type=count, default=None, metavar="N",
                    help="refuse SetUser ACTIVATED beyond N ACTIVATED accounts (exceededSiteHostLimit)")
    sw.add_argument("--site-name", default="syncd", metavar="NAME", help="the siteName requests must carry")
    sw.add_argument("--username", default="admin", metavar="U", help="the site administrator's webExID")
