"""`syncd check`: each configured source tested the way CUCM's "Test connection" does (the steps of each source
type are in ``connectors/<type>/check.py``), and the ``[cwms]`` site when there is one, as one JSON-ready dict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

from connectors.check import Step
from connectors.cwms.check import check as check_cwms
from connectors.options import SourceOptions
from connectors.registry import check_source, source_type_of
from syncd import errors
from syncd.settings import ConfigError
from syncd.settings.sources import RESERVED

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def _one(rt: Runtime, src: SourceOptions) -> dict[str, Any]:
    try:
        steps = check_source(rt.config.resolved(src))
    except ConfigError as e:        # the password cannot be read: no step can run
        steps = [Step("configuration", False, str(e), "check the source's password_* key and the file's mode")]
    except ValueError as e:         # settings the connector refuses (a missing ca_file, a bad WSDL)
        steps = [Step("configuration", False, str(e), "check the source's settings")]
    return {"name": src.name, "type": source_type_of(src).name, "ok": all(s.ok for s in steps),
            "steps": [s.to_dict() for s in steps]}


def _cwms(rt: Runtime) -> dict[str, Any]:
    try:
        steps = check_cwms(rt.config.cwms_resolved())
    except ConfigError as e:        # the password cannot be read: no step can run
        steps = [Step("configuration", False, str(e), "check [cwms]'s password_* key and the file's mode")]
    return {"name": RESERVED, "type": "cwms", "ok": all(s.ok for s in steps), "steps": [s.to_dict() for s in steps]}


def check_sources(rt: Runtime, names: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"ok", "sources": [{"name", "type", "ok", "steps": [{"step", "ok", "detail", "hint"}]}]}``, sources in
    their configured order, then the ``[cwms]`` site as one named ``cwms`` (a name no source may take), all tested
    at the same time (a peer that does not answer costs its timeout once)."""
    configured = rt.config.sources.all()
    known = [s.name for s in configured] + ([RESERVED] if rt.config.cwms is not None else [])
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise errors.UsageError(f"unknown source: {', '.join(unknown)} (configured: {', '.join(known) or 'none'})")
    tests: list[Callable[[], dict[str, Any]]] = [partial(_one, rt, s) for s in configured
                                                 if not names or s.name in names]
    if rt.config.cwms is not None and (not names or RESERVED in names):
        tests.append(partial(_cwms, rt))
    if not tests:
        raise errors.UserError("no sources configured: nothing to check", errors.CONFIG)
    with ThreadPoolExecutor(max_workers=min(8, len(tests)), thread_name_prefix="check") as pool:
        results = list(pool.map(lambda test: test(), tests))
    return {"ok": all(r["ok"] for r in results), "sources": results}
