"""`syncd check`: each configured source tested the way CUCM's "Test connection" does (the steps of each source
type are in ``connectors/<type>/check.py``), as one JSON-ready dict."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from connectors.check import Step
from connectors.options import SourceOptions
from connectors.registry import check_source, source_type_of
from syncd import errors
from syncd.settings import ConfigError

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


def check_sources(rt: Runtime, names: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"ok", "sources": [{"name", "type", "ok", "steps": [{"step", "ok", "detail", "hint"}]}]}``, sources in
    their configured order, tested at the same time (a source that does not answer costs its timeout once)."""
    configured = rt.config.sources.all()
    unknown = sorted(set(names or ()) - {s.name for s in configured})
    if unknown:
        raise errors.UsageError(f"unknown source: {', '.join(unknown)} (configured: "
                                f"{', '.join(s.name for s in configured) or 'none'})")
    chosen = [s for s in configured if not names or s.name in names]
    if not chosen:
        raise errors.UserError("no sources configured: nothing to check", errors.CONFIG)
    with ThreadPoolExecutor(max_workers=min(8, len(chosen)), thread_name_prefix="check") as pool:
        results = list(pool.map(lambda s: _one(rt, s), chosen))
    return {"ok": all(r["ok"] for r in results), "sources": results}
