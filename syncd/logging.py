"""Logging for syncd: structlog to stderr, JSON lines off a terminal, console lines on one, secrets redacted.

stdout is for command output; every log line goes to stderr. Lines from third-party libraries that use the
standard ``logging`` module (APScheduler, SQLAlchemy, zeep, ...) are rendered by the same processors, so they
are redacted and formatted alike.

Redaction has two parts: values of keys that name a secret (password, secret, token, authorization, ...) are
replaced by ``***``, and every value registered with :func:`register_secret` (the configuration registers each
secret it resolves) is replaced by ``***`` wherever it appears: in the event text, in any field, in a
rendered traceback.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Mapping
from contextvars import Token
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from syncd.visible import visible

REDACTED = "***"

RETRY_LOGGER = "connectors.retry"   # where connectors log each retry of a temporary fault

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("auto", "json", "console")

# Secrets shorter than this are not registered: masking every "abc" in every line would make logs unreadable,
# and no real credential is that short.
MIN_SECRET_LENGTH = 4

_SECRET_KEY = re.compile(r"pass(word|wd|phrase)?|secret|token|authorization|api[_-]?key|private[_-]?key|credential",
                         re.IGNORECASE)
# A key such as password_file or token_env names where a secret lives, not the secret itself.
_LOCATOR_SUFFIX = re.compile(r"_(file|env|credential|path|dir)$", re.IGNORECASE)

_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None
_secrets_lock = threading.Lock()
_write_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log line from now on (values shorter than MIN_SECRET_LENGTH are ignored)."""
    global _secrets_pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # Longest first, so a secret that contains another is masked whole.
        alternatives = sorted(_secrets, key=len, reverse=True)
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def redact_text(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    pattern = _secrets_pattern
    return pattern.sub(REDACTED, text) if pattern is not None else text


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and not _LOCATOR_SUFFIX.search(key)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: (REDACTED if isinstance(k, str) and is_secret_key(k) and v is not None else _redact_value(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    if isinstance(value, BaseException):
        # Keep exceptions intact for the exception formatter; the rendered line is redacted afterwards.
        return value
    text = repr(value)
    redacted = redact_text(text)
    return value if redacted == text else redacted


def redact_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask values of secret-named keys and every registered secret."""
    for key, value in list(event_dict.items()):
        if is_secret_key(key) and value is not None:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact_value(value)
    return event_dict


_LEADING_KEYS = ("timestamp", "level", "logger", "event", "run_id", "actor")


def _leading_keys_first(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """JSON lines read better with time, level and event first."""
    ordered = {k: event_dict[k] for k in _LEADING_KEYS if k in event_dict}
    ordered.update((k, v) for k, v in event_dict.items() if k not in ordered)
    return ordered


# Values rendered over several lines on purpose: each line is made visible, the line breaks stay.
_MULTILINE_KEYS = ("exception", "stack")


def _visible_lines(text: str) -> str:
    return "\n".join(visible(line) for line in text.split("\n"))


def visible_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor for console lines: the console renderer writes a text value as it is, so an ESC or a
    newline in a user's name would reach the terminal; every text value is made visible first (JSON lines need
    none of this: JSON escapes controls)."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = _visible_lines(value) if key in _MULTILINE_KEYS else visible(value)
    return event_dict


class _RedactingRenderer:
    """Wraps the final renderer and masks registered secrets in the rendered line too (a secret can reach it
    through an object's repr or a formatted traceback)."""

    def __init__(self, renderer: Processor) -> None:
        self._renderer = renderer

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> Any:
        rendered = self._renderer(logger, method, event_dict)
        return redact_text(rendered) if isinstance(rendered, str) else rendered


class StderrLogger:
    """A structlog logger writing one line per call to whatever ``sys.stderr`` is at that moment (so redirections,
    such as pytest's capture, are honoured)."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def msg(self, message: str) -> None:
        with _write_lock:
            stream = sys.stderr
            stream.write(message + "\n")
            stream.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger_factory(*args: Any) -> StderrLogger:
    return StderrLogger(str(args[0]) if args else None)


class _StderrHandler(logging.Handler):
    """A stdlib handler writing to the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with _write_lock:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
        except Exception:
            self.handleError(record)


def _want_json(fmt: str) -> bool:
    if fmt == "json":
        return True
    if fmt == "console":
        return False
    isatty = getattr(sys.stderr, "isatty", None)
    return not (isatty is not None and isatty())


def _add_logger_name(logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    if "logger" not in event_dict:
        record = event_dict.get("_record")
        name = record.name if record is not None else getattr(logger, "name", None)
        if name:
            event_dict["logger"] = name
    return event_dict


def configure_logging(level: str | int = "INFO", fmt: str = "auto") -> None:
    """Configure structlog and the standard ``logging`` module.

    ``level``: DEBUG, INFO, WARNING, ERROR or CRITICAL (or a logging level number). ``fmt``: "json" (one JSON
    object per line, for journald and files), "console" (readable lines) or "auto" (console when stderr is a
    terminal, else JSON). Timestamps are ISO 8601 in UTC.
    """
    if isinstance(level, str):
        name = level.upper()
        if name not in LEVELS:
            raise ValueError(f"unknown log level {level!r} (use one of {', '.join(LEVELS)})")
        levelno = logging.getLevelNamesMapping()[name]
    else:
        levelno = level
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r} (use one of {', '.join(FORMATS)})")
    as_json = _want_json(fmt)

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_logger_name,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor
    if as_json:
        tail: list[Processor] = [structlog.processors.format_exc_info, redact_processor, _leading_keys_first]
        renderer = structlog.processors.JSONRenderer(default=repr, sort_keys=False)
    else:
        # Tracebacks rendered to text here, so that the exception's message is made visible like any value.
        tail = [structlog.processors.format_exc_info, redact_processor, visible_processor]
        colors = bool(getattr(sys.stderr, "isatty", lambda: False)())
        renderer = structlog.dev.ConsoleRenderer(colors=colors)
    final = _RedactingRenderer(renderer)

    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(), *tail, final],
        wrapper_class=structlog.make_filtering_bound_logger(levelno),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=False,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail, final],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(levelno)
    # Chatty libraries speak only at WARNING and above unless DEBUG was asked for, and never below the configured
    # level (psycopg sets its own logger to WARNING: a CLI command at ERROR must not print its warnings).
    for noisy in ("zeep", "urllib3", "requests", "sqlalchemy", "alembic", "ldap3", "psycopg"):
        logging.getLogger(noisy).setLevel(logging.NOTSET if levelno <= logging.DEBUG else max(levelno, logging.WARNING))
    # A source's retries are progress a person at a terminal waits through: shown there at INFO even when a command
    # logs only errors (not with -q, and not in JSON lines, where the configured level rules).
    visible_retries = not as_json and logging.INFO < levelno < logging.CRITICAL
    logging.getLogger(RETRY_LOGGER).setLevel(logging.INFO if visible_retries else logging.NOTSET)


def get_logger(name: str) -> Any:
    """A structlog logger whose lines carry ``logger=name``; safe to create at import time, before configuration.

    Until :func:`configure_logging` runs, the defaults apply (INFO, format auto, stderr).
    """
    if not structlog.is_configured():
        configure_logging()
    return structlog.get_logger(name)


def bind_run(run_id: str, actor: str | None = None) -> Mapping[str, Token[Any]]:
    """Bind ``run_id`` (and ``actor``) to every log line of the current context (thread or task).

    Returns the tokens for :func:`unbind_run`.
    """
    values: dict[str, Any] = {"run_id": run_id}
    if actor is not None:
        values["actor"] = actor
    return structlog.contextvars.bind_contextvars(**values)


def unbind_run(tokens: Mapping[str, Token[Any]] | None = None) -> None:
    """Undo :func:`bind_run`: restore the previous values from ``tokens``, or drop run_id and actor."""
    if tokens is not None:
        structlog.contextvars.reset_contextvars(**tokens)
    else:
        structlog.contextvars.unbind_contextvars("run_id", "actor")
