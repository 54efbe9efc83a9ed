"""`syncd users`, `syncd explain`, `syncd journal` and `syncd conflicts`."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd import errors
from syncd.cli import text
from syncd.cli.invocation import Invocation
from syncd.cli.output import out
from syncd.views import conflicts as conflicts_view
from syncd.views import explain as explain_view
from syncd.views import journal as journal_view
from syncd.views import people as people_view


def users_list(inv: Invocation) -> int:
    a = inv.args
    people = people_view.users_list(inv.runtime(), state=a.state, license_kind=a.license)
    out(a, people, [text.user_line(p) for p in people] or ["no people match"])
    return errors.OK


def users_show(inv: Invocation) -> int:
    obj = people_view.user_show(inv.runtime(), inv.args.email)
    out(inv.args, obj, text.user_text(obj))
    return errors.OK


def explain(inv: Invocation) -> int:
    a = inv.args
    obj = explain_view.explain(inv.runtime(), a.email, a.at or datetime.now(UTC))
    out(a, obj, text.explain_text(obj))
    return errors.OK


def journal(inv: Invocation) -> int:
    a = inv.args
    rows = journal_view.journal(inv.runtime(), person=a.person, since=a.since, limit=a.limit)
    out(a, rows, [text.journal_line(r) for r in rows] or ["journal is empty"])
    return errors.OK


def conflicts(inv: Invocation) -> int:
    found = conflicts_view.conflicts(inv.runtime())
    out(inv.args, found, text.conflicts_text(found))
    return errors.OK
