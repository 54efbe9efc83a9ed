"""`syncd meetings`: a host request and its end, and the open meetings."""

from __future__ import annotations

from datetime import UTC, datetime

from syncd import errors
from syncd.cli import text
from syncd.cli.invocation import Invocation
from syncd.cli.output import out
from syncd.licensing import admin
from syncd.views import meetings as meetings_view


def _done(inv: Invocation, outcome: admin.Outcome, refused: int) -> int:
    out(inv.args, outcome.to_dict(), outcome.lines())
    return errors.OK if outcome.ok else refused


def meeting_start(inv: Invocation) -> int:
    a = inv.args
    return _done(inv, admin.start_meeting(inv.runtime(), a.email, a.meeting), refused=errors.HOST_REFUSED)


def meeting_end(inv: Invocation) -> int:
    return _done(inv, admin.end_meeting(inv.runtime(), inv.args.meeting_id), refused=errors.UNKNOWN_OR_REFUSED)


def meetings_list(inv: Invocation) -> int:
    found = meetings_view.open_meetings(inv.runtime(), datetime.now(UTC), host=inv.args.host)
    out(inv.args, found, [text.meeting_line(m) for m in found] or ["no open meetings"])
    return errors.OK
