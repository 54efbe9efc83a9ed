"""HTTP side of the simulator: Basic auth, the session cookie, ``POST /axl/`` and the ``/control/`` endpoint."""

from __future__ import annotations

import json
import socket
import struct
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from socketserver import BaseServer
from typing import Any

from . import operations, render
from .state import SimState

COOKIE = "JSESSIONIDSSO"
MAX_BODY = 4 * 1024 * 1024


def drop_connection(sock: socket.socket) -> None:
    """Make the coming close a TCP reset (SO_LINGER 0), as a crashed peer or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class AxlRequestHandler(BaseHTTPRequestHandler):
    """Serves ``sim``; ``tls``: the server speaks HTTPS, so the session cookie is marked Secure."""

    protocol_version = "HTTP/1.1"       # keep-alive, as Tomcat
    server_version = "Apache-Coyote/1.1"
    sys_version = ""

    def __init__(self, request: Any, client_address: Any, server: BaseServer, *, sim: SimState,
                 tls: bool) -> None:
        # Set before the base class's __init__, which handles the whole connection.
        self.sim = sim
        self.tls = tls
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one segment; without this, Nagle + delayed ACK add ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sim.count_connection()

    def log_message(self, format: str, *args: Any) -> None:   # quiet: tests and benchmarks read stdout
        return

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(413, render.html_page(413, "Payload Too Large"), "text/html;charset=utf-8")
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _authenticated(self) -> dict[str, str] | None:
        """Extra response headers (a new session cookie) when the request may proceed; None after a 401."""
        if not self.sim.authorized(self.headers.get("Authorization")):
            self._send(401, render.html_page(401, "Unauthorized"), "text/html;charset=utf-8",
                       {"WWW-Authenticate": 'Basic realm="Cisco AXL"'})
            return None
        cookies = SimpleCookie(self.headers.get("Cookie") or "")
        token = cookies[COOKIE].value if COOKIE in cookies else None
        if self.sim.known_session(token):
            return {}
        secure = "; Secure" if self.tls else ""
        return {"Set-Cookie": f"{COOKIE}={self.sim.new_session()}; Path=/; HttpOnly{secure}"}

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        extra = self._authenticated()
        if extra is None:
            return
        path = self.path.split("?", 1)[0]
        if path.startswith("/control/"):
            self._control(path[len("/control/"):], body)
            return
        if path == "/axl":        # Tomcat redirects to the directory; clients that follow turn POST into GET
            self._send(302, b"", "text/html;charset=utf-8", {"Location": "/axl/"})
            return
        if path != "/axl/":
            self._send(404, render.html_page(404, "Not Found"), "text/html;charset=utf-8")
            return
        reply = operations.answer(self.sim, self.headers.get("SOAPAction"), body)
        if reply.drop:
            drop_connection(self.connection)
            self.close_connection = True
            return
        self._send(reply.status, reply.body, reply.ctype, {**extra, **reply.headers})

    def do_GET(self) -> None:
        if self._authenticated() is None:
            return
        path = self.path.split("?", 1)[0]
        if path == "/control/state":
            self._control("state", b"")
        elif path in ("/axl/", "/axl"):
            self._send(200, b"<html><body>Cisco CallManager: AXL Web Service<p>The AXL Web Service is working "
                            b"and accepting requests. Use HTTP POST to send a request.</body></html>",
                       "text/html;charset=utf-8")
        else:
            self._send(404, render.html_page(404, "Not Found"), "text/html;charset=utf-8")

    def _control(self, action: str, body: bytes) -> None:
        try:
            args = json.loads(body or b"{}")
            if not isinstance(args, dict):
                raise TypeError("the body must be a JSON object")
            out = operations.control(self.sim, action, args)
            status = 200
        except KeyError as e:
            out, status = {"error": f"unknown action or user: {e}"}, 404
        except (ValueError, TypeError) as e:
            out, status = {"error": str(e)}, 400
        self._send(status, json.dumps(out).encode(), "application/json")
