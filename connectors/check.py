"""Testing one source the way CUCM's "Test connection" does: a few steps in order (reach, TLS, authenticate,
schema or version, one small read), each passed with what it found or failed with a reason and a hint.

Each source type has ``connectors/<type>/check.py`` with a ``check(options) -> list[Step]`` function (the registry
finds it by that name). A failed step ends the test: the steps after it are reported as skipped, since each needs
the one before it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# How long the reach step waits for a TCP connection at most (a source's own timeout may be much longer).
REACH_TIMEOUT = 10.0


@dataclass(frozen=True)
class Step:
    name: str                   # reach, tls, authenticate, version, schema, read
    ok: bool | None             # None: skipped, because an earlier step failed
    detail: str                 # what the step found, or why it failed ("" when skipped)
    hint: str = ""              # what to look at, when it failed

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "ok": self.ok, "detail": self.detail, "hint": self.hint}


class StepFailed(Exception):
    def __init__(self, detail: str, hint: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


def run_steps(steps: Sequence[tuple[str, Callable[[], str]]]) -> list[Step]:
    """Run each ``(name, step)`` in order: a step returns what it found, or raises :class:`StepFailed`."""
    out: list[Step] = []
    for name, step in steps:
        if out and out[-1].ok is not True:
            out.append(Step(name, None, ""))
            continue
        try:
            out.append(Step(name, True, step()))
        except StepFailed as e:
            out.append(Step(name, False, e.detail, e.hint))
    return out


def reach(host: str, port: int, timeout: float, service: str) -> socket.socket:
    """A TCP connection to ``host:port``, or :class:`StepFailed` naming the cause in words; ``service`` names what
    should listen there, for the hint."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        return socket.create_connection((host, port), timeout=min(timeout, REACH_TIMEOUT))
    except socket.gaierror:
        raise StepFailed(f"cannot connect to {where} (the name does not resolve)",
                         "check the host name in the URL, and the DNS server of this host") from None
    except ConnectionRefusedError:
        raise StepFailed(f"cannot connect to {where} (connection refused)",
                         f"nothing listens there: is {service} running, and is the port right?") from None
    except TimeoutError:
        raise StepFailed(f"cannot connect to {where} (no answer within {min(timeout, REACH_TIMEOUT):g}s)",
                         "a firewall dropping the packets, or a wrong address") from None
    except OSError as e:
        raise StepFailed(f"cannot connect to {where} ({(e.strerror or type(e).__name__).lower()})",
                         "check the address and the routes to it") from None


def certificate_hint(problem: str, host: str) -> str:
    """What to do about a refused certificate, from the verifier's words."""
    text = problem.lower()
    if "expired" in text:
        return "the server's certificate has expired: renew it"
    if "hostname" in text or "ip address mismatch" in text or "does not match" in text:
        return f"the certificate is not issued to {host}: use the name it names in the URL (or tls_name)"
    if "issuer" in text or "self-signed" in text or "self signed" in text or "unknown ca" in text:
        return "wrong CA: set ca_file to the CA that signed the server's certificate"
    return "check ca_file and the server's certificate"
