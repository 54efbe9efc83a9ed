"""`syncd users`, `syncd explain`, `syncd journal` and `syncd conflicts`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json

from syncd import errors
from syncd.cli import text
from syncd.cli.invocation import Invocation
from syncd.cli.output import out, text_lines
from syncd.views import conflicts as conflicts_view
from syncd.views import explain as explain_view
from syncd.views import journal as journal_view
from syncd.views import people as people_view


def users_list(inv: Invocation) -> int:
    """Streamed: each person is written as the view yields it (``--json``: a JSON list, one object a line)."""
    a = inv.args
    people = people_view.users_list(inv.runtime(), state=a.state, license_kind=a.license)
    write = sys.stdout.write
    if a.json:
        sep = "[\n"
        for p in people:
            write(sep + _json_line(p))
            sep = ",\n"
        write("[]\n" if sep == "[\n" else "\n]\n")
        return errors.OK
    shown = False
    for p in people:
        write(text_lines([text.user_line(p)]))
        shown = True
    if not shown:
        write(text_lines(["no people match"]))
    return errors.OK


def _json_line(obj: dict[str, Any]) -> str:
    """One object as compact JSON: pydantic's encoder (3x faster than ``json``, the same text but for the spaces),
    or ``json`` for what it refuses (a lone surrogate)."""
    try:
        return to_json(obj, fallback=str).decode()
    except ValueError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


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
