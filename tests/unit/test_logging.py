"""Logging: JSON lines with run_id, console lines, stderr only, levels, and redaction of secrets."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import structlog

from syncd.logging import (
    bind_run,
    configure_logging,
    get_logger,
    is_secret_key,
    redact_text,
    register_secret,
    unbind_run,
)


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()
    configure_logging("INFO", "auto")


def fresh_secret() -> str:
    return "pw-" + secrets.token_hex(8)


def json_lines(err: str) -> list[dict]:
    lines = [line for line in err.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_json_lines_on_stderr_with_run_id(capsys):
    configure_logging("INFO", "json")
    log = get_logger("syncd.test")
    bind_run("run-123", "cli:alice")
    log.info("sync started", sources=2)
    log.warning("source slow", source="cucm", seconds=1.5)
    out, err = capsys.readouterr()
    assert out == ""
    first, second = json_lines(err)
    assert first["event"] == "sync started" and first["sources"] == 2
    assert second["level"] == "warning" and second["source"] == "cucm"
    for line in (first, second):
        assert line["run_id"] == "run-123" and line["actor"] == "cli:alice"
        assert line["logger"] == "syncd.test"
        stamp = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
        assert stamp.utcoffset() == timedelta(0)
    assert list(first)[:4] == ["timestamp", "level", "logger", "event"]


def test_logger_created_before_configuration_follows_it(capsys):
    log = get_logger("early")
    configure_logging("WARNING", "json")
    log.info("not shown")
    log.error("shown")
    _, err = capsys.readouterr()
    assert [line["event"] for line in json_lines(err)] == ["shown"]


def test_levels_filter(capsys):
    configure_logging("INFO", "json")
    log = get_logger("t")
    log.debug("hidden")
    log.info("visible")
    configure_logging("DEBUG", "json")
    log.debug("now visible")
    _, err = capsys.readouterr()
    assert [line["event"] for line in json_lines(err)] == ["visible", "now visible"]


def test_bad_level_or_format():
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("LOUD")
    with pytest.raises(ValueError, match="unknown log format"):
        configure_logging("INFO", "xml")


def test_console_format_is_readable(capsys):
    configure_logging("INFO", "console")
    bind_run("run-9", "scheduler")
    get_logger("syncd.sync").info("sync applied", created=3)
    _, err = capsys.readouterr()
    line = err.strip()
    assert not line.startswith("{")
    assert "sync applied" in line and "created=3" in line and "run_id=run-9" in line
    assert "[syncd.sync]" in line


def test_auto_is_json_when_stderr_is_not_a_terminal(capsys):
    configure_logging("INFO", "auto")
    get_logger("t").info("hello")
    _, err = capsys.readouterr()
    assert json_lines(err)[0]["event"] == "hello"


def test_registered_secret_is_replaced_everywhere(capsys):
    secret = fresh_secret()
    register_secret(secret)
    configure_logging("INFO", "json")
    log = get_logger("t")
    log.info(f"bind failed for svc with {secret}", detail={"nested": [f"x{secret}y"]}, note=secret)

    class Holder:
        def __repr__(self) -> str:
            return f"Holder({secret})"

    log.info("object", obj=Holder())
    try:
        raise RuntimeError(f"server said: bad password {secret}")
    except RuntimeError:
        log.exception("login failed")
    _, err = capsys.readouterr()
    assert secret not in err
    lines = json_lines(err)
    assert lines[0]["event"] == "bind failed for svc with ***"
    assert lines[0]["detail"] == {"nested": ["x***y"]} and lines[0]["note"] == "***"
    assert lines[1]["obj"] == "Holder(***)"
    assert "bad password ***" in lines[2]["exception"]


def test_secret_in_console_traceback_is_replaced(capsys):
    secret = fresh_secret()
    register_secret(secret)
    configure_logging("INFO", "console")
    try:
        raise RuntimeError(f"token {secret} rejected")
    except RuntimeError:
        get_logger("t").exception("call failed")
    _, err = capsys.readouterr()
    assert secret not in err and "token *** rejected" in err


def test_secret_named_keys_are_redacted(capsys):
    configure_logging("INFO", "json")
    get_logger("t").info("connecting", password="hunter2", api_token="abc", Authorization="Basic eHl6",
                         client_secret="s", password_file="/etc/syncd/cucm.secret", user="axl",
                         headers={"Authorization": "Bearer x", "Accept": "text/xml"}, token=None)
    _, err = capsys.readouterr()
    line = json_lines(err)[0]
    assert line["password"] == line["api_token"] == line["Authorization"] == line["client_secret"] == "***"
    assert line["password_file"] == "/etc/syncd/cucm.secret"
    assert line["user"] == "axl"
    assert line["headers"] == {"Authorization": "***", "Accept": "text/xml"}
    assert line["token"] is None
    assert "hunter2" not in err and "eHl6" not in err


def test_is_secret_key():
    assert is_secret_key("password") and is_secret_key("AXL_PASSWD") and is_secret_key("bearer_token")
    assert not is_secret_key("password_env") and not is_secret_key("token_file") and not is_secret_key("user")


def test_short_values_are_not_registered():
    register_secret("ab")
    register_secret("")
    register_secret(None)
    assert redact_text("ab cd") == "ab cd"


def test_longer_secret_containing_a_shorter_one_is_masked_whole():
    short = fresh_secret()
    long = short + "-suffix"
    register_secret(short)
    register_secret(long)
    assert redact_text(f"[{long}] [{short}]") == "[***] [***]"


def test_stdlib_logging_goes_through_the_same_pipeline(capsys):
    secret = fresh_secret()
    register_secret(secret)
    configure_logging("INFO", "json")
    tokens = bind_run("run-std")
    logging.getLogger("apscheduler.scheduler").warning("job failed: %s", secret)
    unbind_run(tokens)
    logging.getLogger("zeep.transports").info("chatty library at INFO is quiet")
    _, err = capsys.readouterr()
    lines = json_lines(err)
    assert len(lines) == 1
    assert lines[0]["event"] == "job failed: ***"
    assert lines[0]["logger"] == "apscheduler.scheduler" and lines[0]["level"] == "warning"
    assert lines[0]["run_id"] == "run-std"


def test_unbind_run_restores_the_outer_run(capsys):
    configure_logging("INFO", "json")
    log = get_logger("t")
    tokens = bind_run("outer", "cli:bob")
    inner = bind_run("inner", "api")
    log.info("in")
    unbind_run(inner)
    log.info("after")
    unbind_run(tokens)
    log.info("unbound")
    bind_run("again")
    unbind_run()
    log.info("dropped")
    _, err = capsys.readouterr()
    inside, after, unbound, dropped = json_lines(err)
    assert (inside["run_id"], inside["actor"]) == ("inner", "api")
    assert (after["run_id"], after["actor"]) == ("outer", "cli:bob")
    assert "run_id" not in unbound and "run_id" not in dropped


def test_resolved_config_secret_never_reaches_logs(tmp_path, capsys, monkeypatch):
    """End to end: a secret read through the configuration is masked in a log line that quotes it."""
    from syncd.settings import load_config

    secret = fresh_secret()
    monkeypatch.setenv("SYNCD_TEST_LOG_PW", secret)
    path = tmp_path / "syncd.toml"
    path.write_text('[[sources.cucm]]\nurl = "https://cucm.example.com:8443/axl/"\nusername = "axl"\n'
                    'password_env = "SYNCD_TEST_LOG_PW"\n')
    config = load_config(str(path))
    configure_logging("INFO", "json")
    value = config.secret_for(config.sources.cucm[0])
    get_logger("t").error(f"AXL said 401 for axl:{value}", config=repr(config))
    _, err = capsys.readouterr()
    assert secret not in err and "axl:***" in err


def test_console_lines_show_controls_escaped(capsys):
    configure_logging("INFO", "console")
    try:
        raise RuntimeError("bad name \x1b]0;t\x07")
    except RuntimeError:
        get_logger("t").exception("user \x1b[2J\u202e", userid="evil\x1b[2J", name="Eve\nforged line")
    _, err = capsys.readouterr()
    assert "\x1b" not in err and "\u202e" not in err and "\x07" not in err
    assert r"user \x1b[2J\u202e" in err and r"evil\x1b[2J" in err and r"bad name \x1b]0;t\x07" in err
    assert "forged line" not in err.splitlines()[1:] and "Traceback" in err
