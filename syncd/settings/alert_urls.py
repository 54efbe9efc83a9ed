"""The alert receivers' URLs (``[alerts] urls`` and ``urls_file``): apprise URLs, read when alerts are sent and by
`syncd config check`.

An apprise URL often holds a password or a token (``mailto://user:password@smtp.example.com``,
``slack://TokenA/TokenB/TokenC``, ``wxteams://TOKEN``), so every alert URL is treated as a secret:

- it is never shown: messages and log lines name a receiver by its *label*, the scheme and host as apprise shows
  them with its secrets masked (``mailto://smtp.example.com:587``, ``wxteams://a...p``);
- the URL and each part apprise masks in it are registered with the log redactor (what apprise's full URL shows
  and its private one does not), so that no log line can carry them, whoever writes it;
- a URL holding such a part is refused inline in a configuration file that group or others can read, as an inline
  password is; ``urls_file`` (one URL per line; blank lines and ``#`` comments ignored) is refused when group or
  others can read it at all.

apprise is imported here only when there are URLs to read: its plugins take a few tenths of a second to load.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from syncd.logging import MIN_SECRET_LENGTH, register_secret
from syncd.settings import secrets
from syncd.settings.keys import ConfigError
from syncd.settings.schema import AlertsConfig

APPRISE_LOGGER = "apprise"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_PARTS = re.compile(r"[/:@?&=#,;+\s]+")
_apprise_lock = threading.Lock()     # apprise's logger is redirected while one call runs (apprise_call)


@dataclass(frozen=True)
class AlertUrl:
    """One receiver: its URL (a secret: not in the repr), its label, and its id in the ``alert_state`` table."""

    url: str = field(repr=False)
    label: str

    @property
    def receiver(self) -> str:
        """The first 16 hex digits of the URL's SHA-256: which receiver a state row is about, without the URL."""
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]


@contextlib.contextmanager
def apprise_call() -> Iterator[list[str]]:
    """Run apprise calls with its log lines (WARNING and above) collected into the yielded list instead of
    reaching syncd's log: they can quote a URL in full ("Unsupported URL: ..."), and the caller logs one line of
    its own, with the receiver's label and the reason redacted. One call at a time (the logger is shared)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.WARNING)
    log = logging.getLogger(APPRISE_LOGGER)
    with _apprise_lock:
        level, propagate = log.level, log.propagate
        log.addHandler(handler)
        log.setLevel(logging.WARNING)
        log.propagate = False
        try:
            yield messages
        finally:
            log.removeHandler(handler)
            log.setLevel(level)
            log.propagate = propagate


def instantiate(url: str) -> Any:
    """apprise's plugin for ``url``, or None when apprise does not understand it (apprise's reason is dropped:
    it may quote the URL)."""
    import apprise

    with apprise_call():
        return apprise.Apprise.instantiate(url)


def _parts(text: str) -> set[str]:
    return {p for p in _PARTS.split(unquote(text)) if len(p) >= MIN_SECRET_LENGTH}


def _label(private_url: str) -> str:
    """``scheme://host[:port]`` of apprise's private URL (secrets masked), without any user name."""
    split = urlsplit(private_url)
    return f"{split.scheme}://{split.netloc.rsplit('@', 1)[-1]}"


def parse(url: str) -> tuple[AlertUrl | None, bool]:
    """(the receiver, whether its URL holds a secret), or (None, False) when apprise does not understand it. The
    URL and its secret parts are registered with the log redactor first."""
    register_secret(url)
    plugin = instantiate(url)
    if plugin is None:
        return None, False
    private = plugin.url(privacy=True)
    hidden = _parts(plugin.url(privacy=False)) - _parts(private)
    for part in hidden:
        register_secret(part)
    return AlertUrl(url, _label(private)), bool(hidden)


def _scheme(url: str) -> str:
    m = _SCHEME.match(url)
    return f"{m.group(1)}://" if m else "no scheme"


def _not_understood(url: str) -> str:
    return f"apprise does not understand this URL ({_scheme(url)}; the value is not shown)"


def _file_lines(path: str) -> list[tuple[int, str]]:
    """The URLs of ``urls_file`` with their line numbers; SecretUnavailable when it cannot be read or group or
    others can read it."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0        # read_secret_file says why it cannot be read
    if mode & 0o077:
        raise secrets.SecretUnavailable("urls_file", f"the file it names can be read by group or others (mode "
                                                     f"{mode:04o}); it holds secrets: chmod 600 it")
    text = secrets.read_secret_file("urls_file", path)
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.strip().startswith("#")]


def read_urls(alerts: AlertsConfig, config_path: str | None) -> list[AlertUrl]:
    """Every configured receiver: ``urls`` in order, then ``urls_file``'s lines. One ConfigError names every
    problem by its key (and line), never by the URL."""
    errors: list[tuple[str, str]] = []
    found: list[AlertUrl] = []
    refusal = secrets.inline_refusal(config_path)
    for i, url in enumerate(alerts.urls):
        parsed, secret = parse(url)
        if parsed is None:
            errors.append((f"alerts.urls[{i}]", _not_understood(url)))
        elif secret and refusal:
            errors.append((f"alerts.urls[{i}]", f"holds a password or token ({parsed.label}): {refusal}; move "
                                                "it to urls_file, or chmod 600 this file"))
        else:
            found.append(parsed)
    if alerts.urls_file is not None:
        try:
            lines = _file_lines(alerts.urls_file)
        except secrets.SecretUnavailable as e:
            errors.append((f"alerts.{e.key}", e.message))
            lines = []
        for n, url in lines:
            parsed, _ = parse(url)
            if parsed is None:
                errors.append(("alerts.urls_file", f"line {n}: {_not_understood(url)}"))
            else:
                found.append(parsed)
    if errors:
        raise ConfigError(errors, config_path)
    return list({u.receiver: u for u in found}.values())       # a URL given twice is one receiver
