"""`syncd check [--source NAME]...`: test each configured source's connection (reach, TLS, authenticate, version or
schema, one small read), and the ``[cwms]`` site's as a source named ``cwms``; exit 69 when one fails."""

from __future__ import annotations

from syncd import errors
from syncd.cli.invocation import Invocation
from syncd.cli.output import fail, out
from syncd.cli.text import check_text
from syncd.views.check import check_sources


def check(inv: Invocation) -> int:
    result = check_sources(inv.runtime(), inv.args.source)
    out(inv.args, result, check_text(result))
    failed = [f"{s['name']} ({next(st['step'] for st in s['steps'] if st['ok'] is False)})"
              for s in result["sources"] if not s["ok"]]
    if failed:
        fail(f"check failed: {', '.join(failed)}")
        return errors.SOURCE_UNAVAILABLE
    return errors.OK
