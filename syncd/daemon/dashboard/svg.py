"""The dashboard's two charts, drawn on the server as inline SVG (no script, no external request): the Grace
expiry timeline (Grace licenses expiring per week) and the runs chart (each run's duration, coloured by result).
Text in them is escaped like any other; each bar has a ``<title>`` (its tooltip) and each chart an aria label."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD, AXIS = 640, 160, 28, 18
WEEKS = 27          # Grace lasts 180 days by default: the timeline covers half a year ahead


def _frame(label: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
                  f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


def _axis(max_value: int | float, unit: str) -> list[str]:
    base = HEIGHT - AXIS
    return [f'<line class="axis" x1="{PAD}" y1="{base}" x2="{WIDTH - 4}" y2="{base}"/>',
            f'<text class="tick" x="{PAD - 4}" y="{PAD - 8}" text-anchor="end">{escape(_num(max_value))}</text>',
            f'<text class="tick" x="{PAD - 4}" y="{base}" text-anchor="end">0</text>',
            f'<text class="unit" x="{PAD}" y="{PAD - 14}">{escape(unit)}</text>']


def _num(v: float) -> str:
    return f"{v:.0f}" if v >= 10 or float(v).is_integer() else f"{v:.1f}"


def grace_timeline(counts: Sequence[int], now: datetime) -> Markup:
    """Bars of the Grace licenses expiring in each of the ``WEEKS`` weeks from ``now``
    (``syncd.views.pool.grace_weeks``)."""
    top = max(counts) or 1
    slot = (WIDTH - PAD - 8) / WEEKS
    body = _axis(top, "Grace licenses expiring per week")
    base = HEIGHT - AXIS
    for i, n in enumerate(counts):
        start = (now + timedelta(weeks=i)).date()
        h = (base - PAD) * n / top
        x = PAD + 4 + i * slot
        tip = f"week of {start.isoformat()}: {n} expiring" + (" (or later)" if i == WEEKS - 1 else "")
        body.append(f'<rect class="bar grace" x="{x:.1f}" y="{base - h:.1f}" width="{slot - 3:.1f}" '
                    f'height="{max(h, 0.5):.1f}"><title>{escape(tip)}</title></rect>')
        if i % 4 == 0:
            body.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 4}">{start.strftime("%d %b")}</text>')
    total = sum(counts)
    return _frame(f"{total} Grace licenses by week of expiry over the next {WEEKS} weeks", body)


def runs_chart(runs: Sequence[dict[str, Any]]) -> Markup:
    """Bars of the recorded runs' durations (``syncd.views.history`` rows, newest first), oldest on the left."""
    shown = [r for r in reversed(runs) if r.get("seconds") is not None]
    top = max((r["seconds"] for r in shown), default=0) or 1
    slot = (WIDTH - PAD - 8) / max(len(shown), 10)
    base = HEIGHT - AXIS
    body = _axis(top, "seconds per run (oldest left)")
    for i, r in enumerate(shown):
        h = (base - PAD) * r["seconds"] / top
        x = PAD + 4 + i * slot
        result = r.get("result") or "unknown"
        kind = "ok" if result in ("applied", "no_changes") else "bad" if result in ("failed", "refused") else "other"
        tip = f"{r['started_at']} {r['mode']} by {r['actor']}: {result}, {r['seconds']:.1f} s"
        body.append(f'<rect class="bar {kind}" x="{x:.1f}" y="{base - h:.1f}" width="{slot - 3:.1f}" '
                    f'height="{max(h, 0.5):.1f}"><title>{escape(tip)}</title></rect>')
    return _frame(f"durations of the last {len(shown)} runs", body)
