"""`syncd users`, `syncd explain` and `syncd journal`."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd import errors
from syncd.cli.invocation import Invocation
from syncd.cli.output import out
from syncd.views import reports


def users_list(inv: Invocation) -> int:
    a = inv.args
    people = reports.users_list(inv.runtime(), state=a.state, license_kind=a.license)
    out(a, people, [reports.user_line(p) for p in people] or ["no people match"])
    return errors.OK


def users_show(inv: Invocation) -> int:
    obj = reports.user_show(inv.runtime(), inv.args.email)
    out(inv.args, obj, reports.user_text(obj))
    return errors.OK


def explain(inv: Invocation) -> int:
    a = inv.args
    obj = reports.explain(inv.runtime(), a.email, a.at or datetime.now(UTC))
    out(a, obj, reports.explain_text(obj))
    return errors.OK


def journal(inv: Invocation) -> int:
    a = inv.args
    rows = reports.journal(inv.runtime(), person=a.person, since=a.since, limit=a.limit)
    out(a, rows, [reports.journal_line(r) for r in rows] or ["journal is empty"])
    return errors.OK
