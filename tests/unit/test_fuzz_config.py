"""Configuration fuzzing (issue 7): random TOML documents, random values at the real keys and random bytes give
either a Config or a ConfigError whose every item names a key path (one line), never another exception."""

from __future__ import annotations

import math
import os
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syncd.settings import Config, ConfigError, load_config, parse_toml
from tests.unit.timebound import time_limit

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# A bare or quoted key, then more of them after dots, or array indexes.
_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*")'
KEY_PATH = re.compile(rf"^{_PART}(?:\.{_PART}|\[\d+\])*$")

# The real keys, per table (DESIGN.md 9a); sources are arrays of tables.
SCHEMA: dict[str, list[str]] = {
    "database": ["url"],
    "sources.cucm": ["name", "url", "username", "password_file", "password_env", "password_credential", "password",
                     "version", "ca_file", "insecure", "method", "ldap_flag", "page_size", "wsdl", "timeout",
                     "retries"],
    "sources.ad": ["name", "urls", "bind_dn", "password_file", "password_env", "password_credential", "password",
                   "ca_file", "tls_name", "base_dns", "filter", "host_group", "mode", "page_size", "match",
                   "start_tls", "insecure", "connect_timeout", "receive_timeout"],
    "sources.file": ["name", "path", "format", "kind"],
    "reconcile": ["require_cucm"],
    "licenses": ["cwms_version", "max_concurrent_meetings", "release_hold", "meeting_timeout", "grace_days",
                 "trial_days", "grace_limit", "grace_promotion", "idle_release_days"],
    "safety": ["max_deactivations", "max_deactivation_ratio"],
    "schedule": ["incremental_every", "full_cron", "sweep_every", "jitter", "misfire_grace", "timezone"],
    "api": ["listen", "token_file", "token_env", "token_credential"],
    "logging": ["level", "format"],
}


# -- a small TOML writer (every table inline, so any nesting is one line per top-level key) ---------------------

def toml_string(s: str) -> str:
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_string(k)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_doc(data: dict[str, Any]) -> str:
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
scalars = (text | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.booleans()
           | st.datetimes(timezones=st.none() | st.just(UTC)) | st.dates())
toml_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(text, kids, max_size=4), max_leaves=20)

# Values near what the keys want (so validation runs deep), mixed with anything at all.
plausible = st.sampled_from([
    "", "cucm", "ad", "Bad Name", "https://cucm.example.com:8443/axl/", "http://x", "https://x:99999/", "ldaps://dc1",
    "ldap://dc1", "ldaps://dc1/path?q", "CN=svc,DC=example,DC=com", "svc@example.com", "EX\\svc", "(cn=*)",
    "(cn=a)(cn=b)", "(&(cn=*)", "cn=x", "(=x)", "14.0", "9.9", "sql", "list", "getuser", "dirsync", "usn", "jsonl",
    "csv", "2.0", "2.5", "15m", "0s", "-1h", "1h30m", "10x", "0 3 * * *", "0 3 * * 1-5", "61 * * * *", "* * 1 * 1",
    "UTC", "Mars/Olympus", "127.0.0.1:8765", "[::1]:80", "host", ":0", "INFO", "debug", "LOUD", "auto", "json",
    "mail", "userid", "purchase", "manual", "sqlite:///x.db", "mysql://x", "postgresql+psycopg://u@h/d", "relative/x",
    "NAME", "bad name", "a/b", "1" * 400,
]) | st.integers(-5, 20_000) | st.sampled_from([14.0, 2.5, 0.0, -1.0, 1.5, float("nan"), float("inf")])
key_values = plausible | st.lists(plausible, max_size=3) | toml_values


@st.composite
def schema_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for table in draw(st.lists(st.sampled_from(sorted(SCHEMA)), max_size=5, unique=True)):
        keys = SCHEMA[table] + ["unknown_key"]
        body = {k: draw(key_values) for k in draw(st.lists(st.sampled_from(keys), max_size=8, unique=True))}
        if table.startswith("sources."):
            doc.setdefault("sources", {})[table.split(".")[1]] = [body] * draw(st.integers(1, 2))
        else:
            doc[table] = body
    return doc


def check(raw: bytes | str, path: str | None = None) -> Config | ConfigError:
    with time_limit():
        try:
            return parse_toml(raw, path) if path is None else load_config(path)
        except ConfigError as e:
            text = str(e)
            assert text and "\n" not in text and e.errors
            return e


def assert_key_paths(e: ConfigError) -> None:
    for key, msg in e.errors:
        assert KEY_PATH.match(key), (key, msg)
        assert msg.strip(), key


@FUZZ
@given(st.dictionaries(text, toml_values, max_size=6))
@example({"sources": {"cucm": [{}] * 3}})
@example({"sources": [1, 2]})
@example({"database": {"url": "sqlite://" + "x" * 10_000}})
def test_random_toml_documents(data):
    out = check(toml_doc(data))
    if isinstance(out, ConfigError):
        assert_key_paths(out)


@FUZZ
@given(schema_docs())
@example({"sources": {"cucm": [{"name": "a"}], "ad": [{"name": "a"}]}})
@example({"schedule": {"full_cron": "0 3 * * 1-5", "timezone": "Europe/Berlin"}})
@example({"licenses": {"cwms_version": 2.5, "release_hold": "1h30m"}})
@example({"api": {"listen": "[::1]:99999", "token_env": "X", "token_file": "y"}})
def test_random_values_at_the_real_keys(doc):
    out = check(toml_doc(doc))
    if isinstance(out, ConfigError):
        assert_key_paths(out)
    else:
        assert isinstance(out, Config)


@FUZZ
@given(st.binary(max_size=300) | text)
@example(b"\xff\xfe[database]")
@example("[database\nurl = 1")
@example('a = """' + "x" * 100)
@example("x = " + "[" * 5000 + "]" * 5000)
@example("x = " + "{a = " * 2000 + "1" + "}" * 2000)
def test_random_text_is_a_one_line_error_or_a_config(raw):
    check(raw)


def test_deeply_nested_toml_is_a_config_error():
    out = check("x = " + "[" * 100_000 + "]" * 100_000)
    assert isinstance(out, ConfigError)


@FUZZ
@given(schema_docs())
def test_load_config_from_a_file(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("cfg") / "syncd.toml"
    path.write_text(toml_doc(doc), encoding="utf-8")
    path.chmod(0o600)
    out = check(b"", str(path))
    if isinstance(out, ConfigError):
        assert_key_paths(out)


@pytest.mark.parametrize("setup", ["missing", "directory", "unreadable", "not-utf8"])
def test_load_config_file_problems_are_config_errors(tmp_path: Path, setup: str):
    path = tmp_path / "syncd.toml"
    if setup == "directory":
        path.mkdir()
    elif setup == "unreadable":
        path.write_text("[safety]\n")
        path.chmod(0)
    elif setup == "not-utf8":
        path.write_bytes(b"[database]\nurl = \"\xff\"\n")
    out = check(b"", str(path))
    if setup == "unreadable" and os.geteuid() == 0:
        assert isinstance(out, Config)
    else:
        assert isinstance(out, ConfigError) and str(path) in str(out)
