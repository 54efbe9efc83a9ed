"""The daemon's HTTP API (DESIGN.md section 9): a Starlette app that uvicorn serves.

Read endpoints are open (the API binds to 127.0.0.1 by default) unless ``[api] read_token_*`` is set (then every
GET needs that token, or the dashboard's session cookie: ``syncd.daemon.dashboard.auth``); mutating ones need
``Authorization: Bearer TOKEN`` with the token from the configuration. A token in the query string is refused
(query strings end up in logs and proxies); no request line or header is logged by this app, and uvicorn's
access log is off.
A request whose ``Host:`` is not the listen address, a loopback name or one of ``[api] allowed_hosts`` is refused
(400), so a web page cannot read the API through a DNS-rebinding name; a request body must be
``application/json`` (415), which a cross-site form cannot send. Slow clients: server.py.
Every database call runs in a worker thread; each write is one transaction (admin.py), so several nodes on one
PostgreSQL database grant consistently. Every read route answers with a ``syncd.views`` function's data: the
same JSON as the matching CLI command's ``--json``.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from syncd import errors
from syncd.daemon.dashboard import auth as dashboard_auth
from syncd.daemon.dashboard.routes import routes as dashboard_routes
from syncd.daemon.health import health
from syncd.daemon.metrics import Metrics
from syncd.daemon.server import quiet_accept_errors, uvicorn_config
from syncd.licensing import admin, inputs
from syncd.logging import get_logger
from syncd.runtime import Runtime
from syncd.settings.schema import ApiConfig
from syncd.store.db import DatabaseUnavailable, DiskFull
from syncd.store.locks import LockHeld
from syncd.views import conflicts, explain, licenses, meetings, outbox, pages, people, pool, runs

log = get_logger("syncd.api")

MAX_BODY = 64 * 1024    # request bodies are tiny JSON objects; a larger one is refused unread
QUERY_TOKENS = ("token", "access_token", "api_token", "bearer")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
START_TIMEOUT = 30.0    # seconds for uvicorn to listen


class Service(Protocol):
    """What the API needs from the daemon (read at each request, so a reload takes effect at once)."""

    @property
    def api_runtime(self) -> Runtime: ...

    @property
    def api_token(self) -> str | None: ...

    @property
    def api_read_token(self) -> str | None:
        """``[api] read_token_*``: when set, every GET needs it (bearer or the dashboard's cookie)."""
        ...

    @property
    def metrics(self) -> Metrics: ...

    def sync_now(self, full: bool, sources: list[str] | None) -> dict[str, Any]:
        """Run one sync as the API's actor; the report's ``to_dict()``."""
        ...

    def start_sync(self, full: bool, sources: list[str] | None) -> str:
        """Start one sync as the API's actor; its run id once it has begun (LockHeld when it cannot)."""
        ...

    def live_runs(self) -> dict[str, dict[str, Any]]:
        """The state of the runs started through this process's API, by run id."""
        ...


def _error(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, **extra}, status_code=status)


class BadRequest(Exception):
    pass


class NotJson(Exception):
    pass


def _host_name(header: str) -> str:
    """The name of a ``Host:`` header, without its port: ``"[::1]:8765"`` -> ``"::1"``."""
    if header.startswith("["):
        return header[1:].partition("]")[0].lower()
    return header.partition(":")[0].lower()


def host_allowed(header: str, api: ApiConfig) -> bool:
    """Whether ``header`` names the listen address, a loopback name or one of ``allowed_hosts``."""
    return _host_name(header) in {api.host.lower(), *LOOPBACK_NAMES, *api.allowed_hosts}


class HostCheck:
    """Refuses (400) a request whose ``Host:`` the configuration does not allow (read at each request)."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = Headers(scope=scope).get("host", "")
            if not host_allowed(header, self.service.api_runtime.config.api):
                response = _error(400, "bad_host", "this Host: is not the API's; add it to [api] allowed_hosts")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _authorized(request: Request, token: str | None) -> JSONResponse | None:
    """None when the request carries the right bearer token, else the 401 answer."""
    challenge = {"WWW-Authenticate": 'Bearer realm="syncd"'}
    if any(k.lower() in QUERY_TOKENS for k in request.query_params):
        resp = _error(401, "unauthorized", "send the token in the Authorization header, never in the URL")
    elif token is None:
        resp = _error(401, "unauthorized", "no API token is configured ([api] token_file, token_env or "
                                           "token_credential); mutating calls are disabled")
    else:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        resp = _error(401, "unauthorized", "missing or wrong bearer token")
    resp.headers.update(challenge)
    return resp


async def _json_body(request: Request, allowed: set[str]) -> dict[str, Any]:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in ("", "application/json"):
        raise NotJson(f"the body must be application/json, not {media_type}")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise BadRequest(f"request body larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    if not media_type:
        raise NotJson("a request body needs Content-Type: application/json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise BadRequest(f"malformed JSON: {e}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    return body


Check = Callable[[str], str]


def _optional_text(body: dict[str, Any], key: str, check: Check) -> str | None:
    """The body's string ``key`` (None when absent), trimmed and held to the store's limits by ``check``."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{key!r} must be a non-empty string")
    try:
        return check(value.strip())
    except errors.UsageError as e:
        raise BadRequest(f"{key!r}: {e}") from None


def _required_text(body: dict[str, Any], key: str, check: Check) -> str:
    value = _optional_text(body, key, check)
    if value is None:
        raise BadRequest(f"{key!r} is required")
    return value


def _read_authorized(request: Request, service: Service) -> JSONResponse | None:
    """None when a read may go ahead (no read token set, or the request holds it: bearer or the dashboard's
    session cookie), else the 401 answer."""
    if dashboard_auth.may_read(request, service.api_read_token, service.api_token):
        return None
    resp = _error(401, "unauthorized", "this API's reads need the read token ([api] read_token_*) as a bearer "
                                       "token")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="syncd"'
    return resp


Handler = Callable[[Request], Awaitable[Response]]


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _guarded(fn: Handler, mutating: bool = False) -> Handler:
    """``fn`` behind the bearer token (``mutating``) and with the errors every route answers the same way."""
    async def endpoint(request: Request) -> Response:
        if mutating:
            denied = _authorized(request, _service(request).api_token)
            if denied is not None:
                log.warning("api request refused: not authorized", method=request.method, path=request.url.path)
                return denied
        else:
            denied = _read_authorized(request, _service(request))
            if denied is not None:
                return denied
        try:
            return await fn(request)
        except BadRequest as e:
            return _error(400, "bad_request", str(e))
        except NotJson as e:
            return _error(415, "unsupported_media_type", str(e))
        except errors.UnknownPerson as e:
            return _error(404, "unknown_person", str(e))
        except errors.UserError as e:
            return _error(400, "bad_request", str(e))
        except LockHeld as e:
            return _error(409, "locked", str(e))
        except (DatabaseUnavailable, DiskFull) as e:
            log.error("api request failed: database", path=request.url.path, error=str(e))
            return _error(503, "database_unavailable", str(e))
    return endpoint


async def _healthz(request: Request) -> Response:
    ok, body = await run_in_threadpool(health, _service(request).api_runtime)
    return JSONResponse(body, status_code=200 if ok else 503)


async def _metrics(request: Request) -> Response:
    data = await run_in_threadpool(_service(request).metrics.render)
    return Response(data, media_type="text/plain; version=0.0.4; charset=utf-8")


async def _license_report(request: Request) -> Response:
    rt = _service(request).api_runtime
    return JSONResponse(await run_in_threadpool(licenses.license_report, rt, datetime.now(UTC)))


async def _person(request: Request) -> Response:
    email = inputs.email(request.path_params["email"])
    return JSONResponse(await run_in_threadpool(people.user_show, _service(request).api_runtime, email))


async def _explain(request: Request) -> Response:
    email = inputs.email(request.path_params["email"])
    rt = _service(request).api_runtime
    return JSONResponse(await run_in_threadpool(explain.explain, rt, email, datetime.now(UTC)))


async def _last_runs(request: Request) -> Response:
    service = _service(request)
    return JSONResponse(await run_in_threadpool(runs.recent_runs, service.api_runtime, service.live_runs()))


async def _run_report(request: Request) -> Response:
    run_id = inputs.run_id(request.path_params["run_id"])
    service = _service(request)
    try:
        return JSONResponse(await run_in_threadpool(runs.run_report, service.api_runtime, run_id,
                                                    service.live_runs()))
    except runs.UnknownRun as e:
        return _error(404, "unknown_run", str(e))


async def _open_meetings(request: Request) -> Response:
    host = request.query_params.get("host")
    host = inputs.email(host) if host is not None else None
    rt = _service(request).api_runtime
    return JSONResponse(await run_in_threadpool(meetings.open_meetings, rt, datetime.now(UTC), host))


async def _cwms_outbox(request: Request) -> Response:
    """``?state=pending|failed|done`` and ``?limit=N`` (default 100): the outbox's counts and newest rows."""
    state = request.query_params.get("state")
    if state is not None and state not in outbox.STATES:
        raise BadRequest(f"'state' must be one of {', '.join(outbox.STATES)}")
    raw = request.query_params.get("limit", "100")
    try:
        limit = inputs.row_limit(int(raw))
    except ValueError:
        raise BadRequest(f"'limit' must be a whole number, not {raw!r}") from None
    rt = _service(request).api_runtime
    return JSONResponse(await run_in_threadpool(lambda: outbox.outbox(rt, state=state, limit=limit)))


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(pages.PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= pages.MAX_PAGE:
        raise BadRequest(f"'limit' must be a whole number from 1 to {pages.MAX_PAGE}")
    return int(raw)


def _choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in choices:
        raise BadRequest(f"{name!r} must be one of {', '.join(choices)}")
    return value


async def _people_page(request: Request) -> Response:
    """``?q=&state=&license=&after=&limit=``: one keyset page of people (syncd.views.pages)."""
    qp = request.query_params
    state, kind = _choice(request, "state", pages.STATES), _choice(request, "license", pages.LICENSES)
    rt = _service(request).api_runtime
    return JSONResponse(await run_in_threadpool(pages.people_page, rt, qp.get("q"), state, kind, qp.get("after"),
                                                _limit(request)))


async def _journal_page(request: Request) -> Response:
    """``?person=&event=&before=&limit=``: one keyset page of the journal, newest first (syncd.views.pages)."""
    qp = request.query_params
    before = qp.get("before")
    if before is not None and not before.isdigit():
        raise BadRequest("'before' must be a journal row id")
    rt = _service(request).api_runtime
    return JSONResponse(await run_in_threadpool(
        lambda: pages.journal_page(rt, person=qp.get("person"), event=qp.get("event"),
                                   before=int(before) if before else None, limit=_limit(request))))


async def _license_pool(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(pool.pool, _service(request).api_runtime))


async def _conflicts(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(conflicts.conflicts, _service(request).api_runtime))


async def _meeting_start(request: Request) -> Response:
    body = await _json_body(request, {"host", "meeting_id"})
    host = _required_text(body, "host", inputs.email)
    mid = _optional_text(body, "meeting_id", inputs.meeting_id)
    try:
        outcome = await run_in_threadpool(admin.start_meeting, _service(request).api_runtime, host, mid)
    except admin.MeetingIdUsed as e:
        return _error(409, "meeting_id_in_use", str(e), meeting_id=e.meeting_id, granted=False,
                      reason="meeting_id_in_use")
    return JSONResponse(outcome.to_dict(), status_code=201 if outcome.ok else 409)


async def _meeting_end(request: Request) -> Response:
    mid = inputs.meeting_id(request.path_params["meeting_id"])
    try:
        outcome = await run_in_threadpool(admin.end_meeting, _service(request).api_runtime, mid)
    except errors.UnknownPerson:
        raise
    except errors.UserError as e:       # no open meeting with that id
        return _error(404, "unknown_meeting", str(e))
    return JSONResponse(outcome.to_dict(), status_code=200 if outcome.ok else 409)


async def _sync(request: Request) -> Response:
    """202 with the run id as soon as the run has begun (progress and report: ``GET /api/v1/runs/{run_id}``), or
    409 ``locked``; ``{"wait": true}`` waits for the run and answers 200 with its report."""
    body = await _json_body(request, {"full", "sources", "wait"})
    full = body.get("full", False)
    sources = body.get("sources")
    wait = body.get("wait", False)
    if not isinstance(full, bool):
        raise BadRequest("'full' must be true or false")
    if not isinstance(wait, bool):
        raise BadRequest("'wait' must be true or false")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise BadRequest("'sources' must be a list of source names")
    for name in sources or ():
        inputs.source_name(name)
    if wait:
        return JSONResponse(await run_in_threadpool(_service(request).sync_now, full, sources or None))
    run_id = await run_in_threadpool(_service(request).start_sync, full, sources or None)
    return JSONResponse({"run_id": run_id, "status": "running", "url": f"/api/v1/runs/{run_id}"}, status_code=202)


def create_app(service: Service) -> Starlette:
    """The Starlette application for ``service``."""
    routes = [
        Route("/healthz", _guarded(_healthz), methods=["GET"]),
        Route("/metrics", _guarded(_metrics), methods=["GET"]),
        Route("/api/v1/licenses", _guarded(_license_report), methods=["GET"]),
        Route("/api/v1/licenses/pool", _guarded(_license_pool), methods=["GET"]),
        Route("/api/v1/people", _guarded(_people_page), methods=["GET"]),
        Route("/api/v1/journal", _guarded(_journal_page), methods=["GET"]),
        Route("/api/v1/conflicts", _guarded(_conflicts), methods=["GET"]),
        Route("/api/v1/people/{email}", _guarded(_person), methods=["GET"]),
        Route("/api/v1/explain/{email}", _guarded(_explain), methods=["GET"]),
        Route("/api/v1/runs", _guarded(_last_runs), methods=["GET"]),
        Route("/api/v1/runs/{run_id}", _guarded(_run_report), methods=["GET"]),
        Route("/api/v1/meetings", _guarded(_open_meetings), methods=["GET"]),
        Route("/api/v1/cwms/outbox", _guarded(_cwms_outbox), methods=["GET"]),
        Route("/api/v1/meetings", _guarded(_meeting_start, mutating=True), methods=["POST"]),
        Route("/api/v1/meetings/{meeting_id}", _guarded(_meeting_end, mutating=True), methods=["DELETE"]),
        Route("/api/v1/sync", _guarded(_sync, mutating=True), methods=["POST"]),
        *dashboard_routes(service),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(HostCheck, service=service)])
    app.state.service = service
    return app


def start_server(app: Starlette, host: str, port: int, listen: str) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Serve ``app`` with uvicorn on its own thread; once listening: the server, its thread and the address it
    listens on (port 0 picks a free port). A configuration error (78) when it cannot listen."""
    quiet_accept_errors()
    server = uvicorn.Server(uvicorn_config(app, host, port))
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise errors.UserError(f"the HTTP API could not listen on {listen} (see the log)", errors.CONFIG)
        time.sleep(0.05)
    bound_host, bound_port = server.servers[0].sockets[0].getsockname()[:2]
    log.info("api listening", host=bound_host, port=bound_port)
    address = f"[{bound_host}]:{bound_port}" if ":" in bound_host else f"{bound_host}:{bound_port}"
    return server, thread, address
