"""The dashboard's pages: each gathers its ``syncd.views`` data in a worker thread (the views read the database)
and renders one template. Query parameters are checked here; a wrong one is a 400 page, never a traceback."""

from __future__ import annotations

import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from syncd import errors
from syncd.daemon.dashboard import auth, svg
from syncd.daemon.dashboard.render import page, secure
from syncd.daemon.health import health
from syncd.licensing import inputs
from syncd.logging import get_logger
from syncd.runtime import Runtime
from syncd.store.db import DatabaseUnavailable, DiskFull
from syncd.views import conflicts, explain, history, licenses, outbox, pages, people, pool, runs, status

log = get_logger("syncd.dashboard")

NAV = [("/ui/", "Overview"), ("/ui/people", "People"), ("/ui/licenses", "Licenses"), ("/ui/runs", "Runs"),
       ("/ui/conflicts", "Conflicts and warnings"), ("/ui/journal", "Journal"), ("/ui/outbox", "CWMS outbox")]
PERSON_JOURNAL = 100
MAX_LOGIN_BODY = 4096


class Service(Protocol):
    @property
    def api_runtime(self) -> Runtime: ...

    @property
    def api_token(self) -> str | None: ...

    @property
    def api_read_token(self) -> str | None: ...

    def live_runs(self) -> dict[str, dict[str, Any]]: ...


class BadQuery(Exception):
    pass


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    return page(template, status_code, nav=NAV, path=request.url.path,
                locked=_service(request).api_read_token is not None, **context)


Handler = Callable[[Request], Awaitable[Response]]


def guarded(fn: Handler) -> Handler:
    """``fn`` behind the login (when a read token is set) and with the error pages."""
    async def endpoint(request: Request) -> Response:
        service = _service(request)
        token = service.api_read_token
        if token is not None and not auth.has_session(request, token):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return secure(RedirectResponse("/ui/login?" + urllib.parse.urlencode({"next": target}), 303))
        try:
            return await fn(request)
        except BadQuery as e:
            return _render(request, "error.html", 400, title="Bad request", message=str(e))
        except errors.UnknownPerson as e:
            return _render(request, "error.html", 404, title="Not found", message=str(e))
        except errors.UserError as e:
            return _render(request, "error.html", 400, title="Bad request", message=str(e))
        except (DatabaseUnavailable, DiskFull) as e:
            log.error("dashboard page failed: database", path=request.url.path, error=str(e))
            return _render(request, "error.html", 503, title="Database unavailable", message=str(e))
    return endpoint


def _param(request: Request, name: str, choices: tuple[str, ...] | None = None) -> str | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if len(value) > 320:
        raise BadQuery(f"{name} is too long")
    if choices is not None and value not in choices:
        raise BadQuery(f"{name} must be one of {', '.join(choices)}")
    return value


def _time(request: Request, name: str) -> datetime | None:
    """A date (00:00 UTC) or an ISO 8601 time; a time without an offset is UTC (the form says so)."""
    text = _param(request, name)
    if text is None:
        return None
    try:
        return inputs.time(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC))
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadQuery(f"{name}: not a date or ISO 8601 time: {text}") from None
    return inputs.time(t if t.tzinfo else t.replace(tzinfo=UTC))


async def overview(request: Request) -> Response:
    service = _service(request)
    rt, live = service.api_runtime, service.live_runs()

    def gather() -> dict[str, Any]:
        now = datetime.now(UTC)
        healthy, body = health(rt, now)
        return {"report": licenses.license_report(rt, now), "healthy": healthy, "health": body,
                "runs": runs.recent_runs(rt, live), "history": history.run_history(rt),
                "grace": pool.grace_weeks(rt, now, svg.WEEKS), "now": now}
    return _render(request, "overview.html", **await run_in_threadpool(gather))


async def people_list(request: Request) -> Response:
    q = _param(request, "q")
    state = _param(request, "state", pages.STATES)
    kind = _param(request, "license", pages.LICENSES)
    after = _param(request, "after")
    rt = _service(request).api_runtime
    result = await run_in_threadpool(pages.people_page, rt, q, state, kind, after)
    base = {k: v for k, v in (("q", q), ("state", state), ("license", kind)) if v}
    next_url = ("/ui/people?" + urllib.parse.urlencode({**base, "after": result["next"]})) if result["next"] else None
    first_url = ("/ui/people?" + urllib.parse.urlencode(base)) if after else None
    return _render(request, "people.html", q=q or "", state=state or "", license=kind or "", result=result,
                   next_url=next_url, first_url=first_url, states=pages.STATES, licenses=pages.LICENSES)


async def person(request: Request) -> Response:
    email = inputs.email(request.path_params["email"])
    rt = _service(request).api_runtime

    def gather() -> dict[str, Any]:
        shown = people.user_show(rt, email)
        why = explain.explain(rt, email, datetime.now(UTC)) if shown["known"] else None
        trail = pages.journal_page(rt, person=shown["email"], limit=PERSON_JOURNAL)
        return {"person": shown, "explain": why, "journal": trail}
    data = await run_in_threadpool(gather)
    journal_url = "/ui/journal?" + urllib.parse.urlencode({"person": data["person"]["email"]})
    return _render(request, "person.html", journal_url=journal_url, **data)


async def license_page(request: Request) -> Response:
    rt = _service(request).api_runtime

    def gather() -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"report": licenses.license_report(rt, now), "pool": pool.pool(rt),
                "weeks": pool.grace_weeks(rt, now, svg.WEEKS), "now": now}
    return _render(request, "licenses.html", **await run_in_threadpool(gather))


async def runs_page(request: Request) -> Response:
    service = _service(request)
    rt, live = service.api_runtime, service.live_runs()

    def gather() -> dict[str, Any]:
        going = [r for r in runs.recent_runs(rt, live) if r["status"] == "running"]
        return {"history": history.run_history(rt), "going": going}
    return _render(request, "runs.html", **await run_in_threadpool(gather))


async def conflicts_page(request: Request) -> Response:
    rt = _service(request).api_runtime

    def gather() -> dict[str, Any]:
        return {"conflicts": conflicts.conflicts(rt), "status": status.status(rt)}
    return _render(request, "conflicts.html", **await run_in_threadpool(gather))


async def journal_page(request: Request) -> Response:
    who = _param(request, "person")
    event = _param(request, "event")
    since, until = _time(request, "since"), _time(request, "until")
    before_text = _param(request, "before")
    if before_text is not None and not before_text.isdigit():
        raise BadQuery("before must be a journal row id")
    before = int(before_text) if before_text else None
    rt = _service(request).api_runtime
    result = await run_in_threadpool(pages.journal_page, rt, who, event, since, until, before)
    base = {k: v for k, v in (("person", who), ("event", event), ("since", _param(request, "since")),
                              ("until", _param(request, "until"))) if v}
    next_url = ("/ui/journal?" + urllib.parse.urlencode({**base, "before": result["next"]})) if result["next"] else None
    first_url = ("/ui/journal?" + urllib.parse.urlencode(base)) if before else None
    return _render(request, "journal.html", result=result, next_url=next_url, first_url=first_url,
                   person=who or "", event=event or "", since=_param(request, "since") or "",
                   until=_param(request, "until") or "", filtered=bool(base))


async def outbox_page(request: Request) -> Response:

    state = _param(request, "state", tuple(outbox.STATES))
    rt = _service(request).api_runtime
    data = await run_in_threadpool(lambda: outbox.outbox(rt, state=state, limit=200))
    return _render(request, "outbox.html", data=data, state=state or "", states=outbox.STATES)


async def login_form(request: Request) -> Response:
    if _service(request).api_read_token is None:
        return secure(RedirectResponse("/ui/", 303))
    return _render(request, "login.html", next=auth.safe_next(request.query_params.get("next")), failed=False)


async def login(request: Request) -> Response:
    token = _service(request).api_read_token
    if token is None:
        return secure(RedirectResponse("/ui/", 303))
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_LOGIN_BODY:
            return _render(request, "error.html", 413, title="Too large", message="the login form is too large")
    form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), max_num_fields=4)
    target = auth.safe_next((form.get("next") or [None])[0])
    if not auth.token_matches((form.get("token") or [""])[0].strip(), token):
        log.warning("dashboard login refused: wrong token")
        return _render(request, "login.html", 401, next=target, failed=True)
    response = RedirectResponse(target, 303)
    response.set_cookie(auth.COOKIE, auth.session_value(token), httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return secure(response)


async def logout(request: Request) -> Response:
    response = RedirectResponse("/ui/login" if _service(request).api_read_token else "/ui/", 303)
    response.delete_cookie(auth.COOKIE, path="/", httponly=True, samesite="strict")
    return secure(response)
