"""The dashboard's routes, which ``syncd.daemon.api`` mounts: ``/`` (to the overview) and the ``/ui`` app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncd.daemon.dashboard import pages
from syncd.daemon.dashboard.render import HEADERS, secure


class SecurityHeaders:
    """The headers of ``render.HEADERS`` on every response of the wrapped app (static files included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)
        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


async def _root(request: Request) -> Response:
    return secure(RedirectResponse("/ui/", 303))


def dashboard_app(service: pages.Service) -> Starlette:
    g = pages.guarded
    routes: list[BaseRoute] = [
        Route("/", g(pages.overview), methods=["GET"]),
        Route("/people", g(pages.people_list), methods=["GET"]),
        Route("/people/{email}", g(pages.person), methods=["GET"]),
        Route("/licenses", g(pages.license_page), methods=["GET"]),
        Route("/runs", g(pages.runs_page), methods=["GET"]),
        Route("/conflicts", g(pages.conflicts_page), methods=["GET"]),
        Route("/journal", g(pages.journal_page), methods=["GET"]),
        Route("/outbox", g(pages.outbox_page), methods=["GET"]),
        Route("/login", pages.login_form, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Mount("/static", app=StaticFiles(packages=[("syncd.daemon.dashboard", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.service = service
    return app


def routes(service: pages.Service) -> list[BaseRoute]:
    """``/`` and ``/ui/...``, for the API's route list."""
    return [Route("/", _root, methods=["GET"]), Route("/ui", _root, methods=["GET"]),
            Mount("/ui", app=SecurityHeaders(dashboard_app(service)))]
