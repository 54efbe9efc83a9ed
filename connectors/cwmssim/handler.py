"""HTTP side of the CWMS simulator: ``POST /WBXService/XMLService``, the JSON ``/control/`` endpoint (``control``);
anything else is an HTML error page."""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler
from socketserver import BaseServer
from typing import Any

from connectors.axlsim.handler import drop_connection

from . import control, operations
from .operations import HTML
from .schema import RequestSchema
from .state import SimState

PATH = "/WBXService/XMLService"
MAX_BODY = 1024 * 1024


class CwmsRequestHandler(BaseHTTPRequestHandler):
    """Serves ``sim``, validating requests against ``schema`` when there is one."""

    protocol_version = "HTTP/1.1"
    server_version = "Apache"
    sys_version = ""

    def __init__(self, request: Any, client_address: Any, server: BaseServer, *, sim: SimState,
                 schema: RequestSchema | None) -> None:
        self.sim = sim                  # set before the base class's __init__, which handles the connection
        self.schema = schema
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:   # quiet: tests read stdout
        return

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        """The request's body; None (answered 413) when its length is bad or over :data:`MAX_BODY`."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, operations.html_page(413, "Request Entity Too Large"), HTML)
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _controlled(self) -> bool:
        """Whether the request is for ``/control/``; if so, it is answered."""
        path = self.path.split("?", 1)[0]
        if not path.startswith(control.PREFIX):
            return False
        body = self._body()
        if body is not None:
            reply = control.handle(self.sim, self.command, path, self.headers.get("Authorization"),
                                   self.headers.get("Content-Type"), body)
            payload = b"" if reply.status == 204 else json.dumps(reply.payload).encode()
            self._send(reply.status, payload, control.JSON, reply.headers)
        return True

    def do_POST(self) -> None:
        if self._controlled():
            return
        body = self._body()
        if body is None:
            return
        if self.path.split("?", 1)[0] != PATH:
            self._send(404, operations.html_page(404, "Not Found"), HTML)
            return
        reply = operations.answer(self.sim, self.schema, body)
        if reply.drop:
            drop_connection(self.connection)
            self.close_connection = True
            return
        self._send(reply.status, reply.body, reply.ctype, reply.headers)

    def do_GET(self) -> None:
        if self._controlled():
            return
        status, reason = (405, "Method Not Allowed") if self.path.split("?", 1)[0] == PATH else (404, "Not Found")
        self._send(status, operations.html_page(status, reason), HTML)

    def _control_only(self) -> None:
        if not self._controlled():
            self.send_error(501, f"Unsupported method ({self.command!r})")   # what other paths always answered

    do_PUT = do_DELETE = _control_only
