"""Templates (Jinja2, autoescape on: text from CUCM, AD or CWMS is shown, never run) and the headers of every
dashboard response: a Content-Security-Policy that allows this server only (no inline script or style), no
framing, no caching of pages that hold people's data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse, Response

from syncd.daemon.dashboard import svg

CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def secure(response: Response, cache: bool = False) -> Response:
    response.headers.update(HEADERS)
    if not cache:
        response.headers["Cache-Control"] = "no-store"
    return response


def when(iso: str | None) -> Markup:
    """A view's ISO time as a ``<time>`` element: UTC in its text and title; the page's script shows it in the
    browser's zone and keeps UTC on hover."""
    if not iso:
        return Markup("&ndash;")
    utc = datetime.fromisoformat(iso).astimezone(UTC)
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{0}" title="{1}">{1}</time>').format(utc.isoformat(), text)


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {int(value % 60)} s"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("syncd.daemon.dashboard", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, seconds=seconds, plural=plural, escape=escape)
    env.globals.update(grace_timeline=svg.grace_timeline, runs_chart=svg.runs_chart)
    return env


ENV = _env()


def page(template: str, status_code: int = 200, **context: Any) -> Response:
    return secure(HTMLResponse(ENV.get_template(template).render(**context), status_code=status_code))
