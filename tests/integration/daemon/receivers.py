"""Real alert receivers on 127.0.0.1 for the alert tests: an HTTP endpoint recording what apprise's json:// posts,
and an SMTP server (aiosmtpd) recording the mails apprise's mailto:// sends."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpReceiver:
    """``json://127.0.0.1:PORT/hook`` posts, each as its parsed JSON body; ``port`` may name a port to serve on
    (a receiver that was down coming back at its address)."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, **json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "hook", userinfo: str = "") -> str:
        return f"json://{userinfo}127.0.0.1:{self.port}/{path}"

    @property
    def titles(self) -> list[str]:
        return [p["title"] for p in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """A plain SMTP server (no TLS, no AUTH): apprise's ``mailto://127.0.0.1:PORT?...&mode=insecure``."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        received = self.messages

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self) -> str:
        return (f"mailto://127.0.0.1:{self.port}?from=syncd@example.com&to=admin@example.com&mode=insecure")

    @property
    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def body(self, i: int) -> str:
        """The plain-text part of message ``i`` (apprise sends text and HTML alternatives)."""
        part = self.messages[i].get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()
