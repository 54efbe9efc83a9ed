"""Configuration: loading, validation with key paths, durations, cron, secrets, and the shipped example."""

from __future__ import annotations

import os
import re
import textwrap
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.ad.options import AdOptions, validate_dn, validate_filter
from connectors.cucm.options import CucmOptions
from connectors.cwms.options import CwmsOptions
from connectors.file.options import FileOptions
from connectors.options import Secret
from connectors.registry import SOURCE_TYPES
from syncd.logging import redact_text
from syncd.settings import (
    Config,
    ConfigError,
    load_config,
    parse_config,
    parse_duration,
    parse_toml,
    resolve_secret,
    split_listen,
)
from syncd.settings import load as load_module
from syncd.settings import schema as schema_module

REPO = Path(__file__).resolve().parents[2]

CUCM = {"url": "https://cucm.example.com:8443/axl/", "username": "axl", "password_env": "SYNCD_TEST_CUCM_PW"}
AD = {"urls": ["ldaps://dc1.example.com"], "bind_dn": "CN=svc,DC=example,DC=com", "base_dns": ["DC=example,DC=com"],
      "password_env": "SYNCD_TEST_AD_PW"}


def write(tmp_path: Path, text: str, name: str = "syncd.toml", mode: int = 0o600) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    path.chmod(mode)
    return str(path)


def errors_of(exc: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return dict(exc.value.errors)


def cfg(**sections: object) -> Config:
    return parse_config(sections)


# -- where the file comes from ----------------------------------------------------------------------------

def test_no_file_at_default_path_means_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    monkeypatch.setattr(load_module, "DEFAULT_PATH", str(tmp_path / "absent.toml"))
    c = load_config(None)
    assert c.path is None
    assert c.source_order() == []
    assert c.database.url is None
    assert c.licenses.cwms_version == "2.5" and c.licenses.grace_days == 180 and c.licenses.trial_days == 180
    assert c.licenses.grace_limit is None and c.licenses.grace_promotion == "purchase"
    assert c.licenses.release_hold == timedelta(0) and c.licenses.meeting_timeout == timedelta(hours=24)
    assert c.safety.max_deactivations == 500 and c.safety.max_deactivation_ratio == pytest.approx(0.10)
    assert c.schedule.incremental_every == timedelta(minutes=15) and c.schedule.full_cron == "0 3 * * *"
    assert c.schedule.sweep_every == timedelta(hours=1)
    assert (c.api.host, c.api.port) == ("127.0.0.1", 8765)
    assert c.api_token() is None
    assert c.reconcile.require_cucm is True
    assert (c.logging.level, c.logging.format) == ("INFO", "auto")
    c.check_secrets()  # nothing to read


def test_default_path_is_read_when_present(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    path = write(tmp_path, "[safety]\nmax_deactivations = 7\n")
    monkeypatch.setattr(load_module, "DEFAULT_PATH", path)
    c = load_config(None)
    assert c.path == path and c.safety.max_deactivations == 7


def test_explicit_missing_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_CONFIG", raising=False)
    missing = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigError) as exc:
        load_config(missing)
    assert str(exc.value) == f"config {missing}: no such file"


def test_env_variable_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, "[safety]\nmax_deactivations = 9\n")
    monkeypatch.setenv("SYNCD_CONFIG", path)
    assert load_config(None).safety.max_deactivations == 9
    monkeypatch.setenv("SYNCD_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(None)
    # The argument wins over the environment.
    other = write(tmp_path, "[safety]\nmax_deactivations = 3\n", name="other.toml")
    assert load_config(other).safety.max_deactivations == 3


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(str(tmp_path))


def test_empty_argument_is_an_error_and_empty_env_variable_is_unset(tmp_path, monkeypatch):
    monkeypatch.setattr(load_module, "DEFAULT_PATH", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("SYNCD_CONFIG", "")
    assert load_config(None).path is None
    with pytest.raises(ConfigError, match="an empty path names no configuration file"):
        load_config("")


# -- syntax and schema errors -----------------------------------------------------------------------------

def test_malformed_toml_is_one_line_with_position(tmp_path):
    path = write(tmp_path, """\
        [safety]
        max_deactivations = 5
        max_deactivation_ratio = = 0.2
        """)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"config {path}: invalid TOML: ")
    assert "line 3" in text


def test_not_utf8(tmp_path):
    path = tmp_path / "syncd.toml"
    path.write_bytes(b"[safety]\n# \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(str(path))


def test_unknown_keys_are_errors_with_their_path(tmp_path):
    path = write(tmp_path, """\
        colour = "blue"
        [[sources.cucm]]
        url = "https://cucm.example.com:8443/axl/"
        username = "axl"
        pasword_file = "/x"
        password_env = "X"
        [sources.ldap]
        [licence]
        """)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    errs = errors_of(exc)
    assert errs["colour"] == "unknown key"
    assert errs["sources.cucm[0].pasword_file"] == "unknown key"
    assert errs["sources.ldap"] == "unknown key"
    assert errs["licence"] == "unknown key"


def test_wrong_types_name_the_key_and_the_type():
    with pytest.raises(ConfigError) as exc:
        cfg(licenses={"grace_days": "180", "max_concurrent_meetings": 1.5}, reconcile={"require_cucm": "yes"},
            safety={"max_deactivation_ratio": "10%"}, sources={"cucm": {"url": "x"}})
    errs = errors_of(exc)
    assert errs["licenses.grace_days"] == "Input should be a valid integer, got a string"
    assert errs["licenses.max_concurrent_meetings"].startswith("Input should be a valid integer")
    assert errs["reconcile.require_cucm"] == "Input should be a valid boolean, got a string"
    assert errs["safety.max_deactivation_ratio"] == "Input should be a valid number, got a string"
    assert errs["sources.cucm"] == "Input should be a valid list, got a table"


def test_every_error_is_reported_on_one_line_with_key_paths(tmp_path):
    path = write(tmp_path, """\
        [[sources.cucm]]
        url = "https://cucm.example.com:8443/axl/"
        username = "axl"
        password_env = "X"
        page_size = 0
        [licenses]
        grace_promotion = "never"
        [safety]
        max_deactivation_ratio = 1.5
        """)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"config {path}: sources.cucm[0].page_size: Input should be greater than or equal to 1; ")
    assert "; licenses.grace_promotion: Input should be 'purchase', 'any' or 'manual'" in text
    assert "; safety.max_deactivation_ratio: Input should be less than or equal to 1" in text
    assert len(exc.value.errors) == 3


def test_missing_required_keys():
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [{"password_env": "X"}], "ad": [{"password_env": "Y"}], "file": [{}]})
    errs = errors_of(exc)
    for key in ("sources.cucm[0].url", "sources.cucm[0].username", "sources.ad[0].urls", "sources.ad[0].bind_dn",
                "sources.ad[0].base_dns", "sources.file[0].path"):
        assert errs[key] == "required key is missing"


@pytest.mark.parametrize(("section", "values", "key"), [
    ("licenses", {"cwms_version": "3.0"}, "licenses.cwms_version"),
    ("licenses", {"grace_days": 0}, "licenses.grace_days"),
    ("licenses", {"grace_limit": -1}, "licenses.grace_limit"),
    ("licenses", {"idle_release_days": 0}, "licenses.idle_release_days"),
    ("licenses", {"max_concurrent_meetings": 0}, "licenses.max_concurrent_meetings"),
    ("safety", {"max_deactivations": -1}, "safety.max_deactivations"),
    ("safety", {"max_deactivation_ratio": -0.1}, "safety.max_deactivation_ratio"),
    ("logging", {"level": "loud"}, "logging.level"),
    ("logging", {"format": "xml"}, "logging.format"),
    ("api", {"listen": "localhost"}, "api.listen"),
    ("api", {"listen": "127.0.0.1:70000"}, "api.listen"),
    ("database", {"url": "mysql://db/syncd"}, "database.url"),
    ("database", {"url": "not a url"}, "database.url"),
    ("schedule", {"timezone": "Mars/Olympus"}, "schedule.timezone"),
])
def test_out_of_range_values(section, values, key):
    with pytest.raises(ConfigError) as exc:
        cfg(**{section: values})
    assert list(errors_of(exc)) == [key]


def test_lenient_spellings():
    c = cfg(licenses={"cwms_version": 2.0}, logging={"level": "debug"},
            sources={"cucm": [{**CUCM, "version": 12.5}]}, database={"url": ""})
    assert c.licenses.cwms_version == "2.0"
    assert c.licenses.concurrent_meetings == 1
    assert c.logging.level == "DEBUG"
    assert c.sources.cucm[0].version == "12.5"
    assert c.database.url is None


def test_policy_settings_kwargs():
    c = cfg(licenses={"grace_limit": 5, "release_hold": "2d", "meeting_timeout": "12h", "grace_promotion": "any",
                      "idle_release_days": 30})
    assert c.policy_settings_kwargs() == {
        "cwms_version": "2.5", "grace_days": 180, "trial_days": 180, "grace_limit": 5, "grace_promotion": "any",
        "max_concurrent_meetings": 2, "idle_release_days": 30, "release_hold": timedelta(days=2),
        "meeting_timeout": timedelta(hours=12),
    }
    assert cfg(licenses={"cwms_version": "2.0", "max_concurrent_meetings": 3}).policy_settings_kwargs()[
        "max_concurrent_meetings"] == 3


# -- durations and cron -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)), ("1h", timedelta(hours=1)), ("24h", timedelta(hours=24)),
    ("0h", timedelta(0)), ("90d", timedelta(days=90)), ("30s", timedelta(seconds=30)),
    ("1h30m", timedelta(minutes=90)), ("500ms", timedelta(milliseconds=500)), ("2w", timedelta(days=14)),
    ("1.5h", timedelta(minutes=90)), (" 10M ", timedelta(minutes=10)),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected
    assert cfg(licenses={"release_hold": text}).licenses.release_hold == expected


@pytest.mark.parametrize("bad", ["15", "m", "-1h", "1 hour", "", "1h-5m", "1y", 15, 1.5, True])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
    with pytest.raises(ConfigError) as exc:
        cfg(licenses={"release_hold": bad})
    assert list(errors_of(exc)) == ["licenses.release_hold"]


@pytest.mark.parametrize("key", ["incremental_every", "sweep_every", "misfire_grace"])
def test_schedule_intervals_must_be_positive(key):
    with pytest.raises(ConfigError) as exc:
        cfg(schedule={key: "0s"})
    assert errors_of(exc) == {f"schedule.{key}": "must be longer than 0s"}


def test_meeting_timeout_must_be_positive():
    with pytest.raises(ConfigError, match=r"licenses\.meeting_timeout: must be longer than 0s"):
        cfg(licenses={"meeting_timeout": "0h"})


def test_cron_valid_gives_a_trigger():
    c = cfg(schedule={"full_cron": "30 2 * * 1-5", "timezone": "UTC"})
    trigger = c.schedule.full_trigger()
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))   # a Saturday
    assert fire == datetime(2026, 11, 30, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(("weekdays", "expected"), [
    # crontab numbering: 0 and 7 are Sunday (APScheduler 3's from_crontab would read 0 as Monday).
    ("0", {6}), ("7", {6}), ("sun", {6}), ("1-5", {0, 1, 2, 3, 4}), ("MON-FRI", {0, 1, 2, 3, 4}),
    ("*/2", {6, 1, 3, 5}), ("5-7", {4, 5, 6}), ("1,3", {0, 2}), ("*", set(range(7))),
])
def test_cron_weekdays_mean_what_crontab_means(weekdays, expected):
    trigger = cfg(schedule={"full_cron": f"0 3 * * {weekdays}", "timezone": "UTC"}).schedule.full_trigger()
    fire, seen = datetime(2026, 11, 28, tzinfo=UTC), set()
    for _ in range(14):
        fire = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
        assert (fire.hour, fire.minute) == (3, 0)
        seen.add(fire.weekday())
    assert seen == expected


@pytest.mark.parametrize("bad", ["0 3 * *", "0 3 * * * *", "61 3 * * *", "0 25 * * *", "@daily", "", "0 3 * * funday",
                                 "0 3 * * 8", "0 3 * * 5-1", "0 3 1 * mon"])
def test_cron_invalid(bad):
    with pytest.raises(ConfigError) as exc:
        cfg(schedule={"full_cron": bad})
    errs = errors_of(exc)
    assert list(errs) == ["schedule.full_cron"]
    assert errs["schedule.full_cron"].startswith(f"invalid cron expression {bad!r}")


# -- sources ----------------------------------------------------------------------------------------------

def test_source_names_unique_across_types_and_well_formed():
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [CUCM], "ad": [{**AD, "name": "cucm"}], "file": [{"name": "Bad Name", "path": "/x"}]})
    errs = errors_of(exc)
    assert "invalid source name 'Bad Name'" in errs["sources.file[0].name"]
    # The name check of a single table runs first; fix it and the duplicate shows.
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [CUCM], "ad": [{**AD, "name": "cucm"}], "file": [{"name": "cucm", "path": "/x"}]})
    errs = errors_of(exc)
    assert set(errs) == {"sources.ad[0].name", "sources.file[0].name"}
    assert "duplicate source name 'cucm' (also sources.cucm[0])" in errs["sources.ad[0].name"]


def test_source_order_and_key_paths():
    c = cfg(sources={"file": [{"name": "snap", "path": "/x.csv", "kind": "ad"}],
                     "ad": [AD], "cucm": [CUCM, {**CUCM, "name": "cucm-emea"}]})
    assert c.source_order() == ["cucm", "cucm-emea", "ad", "snap"]
    assert [s.key_path for s in c.sources.all()] == ["sources.cucm[0]", "sources.cucm[1]", "sources.ad[0]",
                                                     "sources.file[0]"]
    assert isinstance(c.source("snap"), FileOptions)
    with pytest.raises(KeyError):
        c.source("nope")


def test_cucm_defaults_and_ldap_flag():
    c = cfg(sources={"cucm": [CUCM, {**CUCM, "name": "b", "method": "list"},
                              {**CUCM, "name": "c", "method": "list", "ldap_flag": "getuser"}]})
    a, b, cc = c.sources.cucm
    assert isinstance(a, CucmOptions)
    assert (a.name, a.version, a.method, a.ldap_flag, a.page_size, a.insecure, a.ca_file, a.wsdl) == (
        "cucm", "14.0", "sql", "sql", 1000, False, None, None)
    assert (a.timeout, a.retries) == (30.0, 5)
    assert b.ldap_flag == "ad"
    assert cc.ldap_flag == "getuser"


@pytest.mark.parametrize(("values", "key", "fragment"), [
    ({"version": "13.0"}, "version", "unsupported AXL version '13.0'"),
    ({"version": 10.5}, "version", "unsupported AXL version '10.5'"),
    ({"page_size": 10001}, "page_size", "less than or equal to 10000"),
    ({"method": "soap"}, "method", "'sql' or 'list'"),
    ({"ldap_flag": "ldap"}, "ldap_flag", "'sql', 'getuser' or 'ad'"),
    ({"url": "cucm.example.com"}, "url", "not an AXL URL"),
    ({"url": "https://cucm.example.com:99999/axl/"}, "url", "invalid port"),
    ({"url": "http://cucm.example.com:8080/axl/"}, "url", "plain http sends the AXL password in clear text"),
    ({"timeout": 0}, "timeout", "greater than 0"),
    ({"retries": -1}, "retries", "greater than or equal to 0"),
    ({"username": ""}, "username", "at least 1 character"),
])
def test_cucm_invalid(values, key, fragment):
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [{**CUCM, **values}]})
    errs = errors_of(exc)
    assert list(errs) == [f"sources.cucm[0].{key}"]
    assert fragment in errs[f"sources.cucm[0].{key}"]


def test_cucm_http_allowed_when_insecure():
    c = cfg(sources={"cucm": [{**CUCM, "url": "http://127.0.0.1:8080/axl/", "insecure": True}]})
    assert c.sources.cucm[0].insecure is True


def test_ad_defaults():
    a = cfg(sources={"ad": [AD]}).sources.ad[0]
    assert isinstance(a, AdOptions)
    assert (a.name, a.mode, a.page_size, a.match, a.filter, a.host_group, a.start_tls, a.insecure, a.tls_name) == (
        "ad", "dirsync", 500, ["mail", "userid"], "", "", False, False, None)
    assert a.connect_timeout > 0 and a.receive_timeout > 0


@pytest.mark.parametrize(("values", "key", "fragment"), [
    ({"urls": ["ldap://dc1.example.com"]}, "urls[0]", "plain ldap:// needs start_tls = true"),
    ({"urls": ["ldaps://dc1.example.com", "https://dc2.example.com"]}, "urls[1]", "not an LDAP server URL"),
    ({"urls": ["ldaps://dc1.example.com/DC=example,DC=com"]}, "urls[0]", "not an LDAP server URL"),
    ({"urls": ["ldaps://dc1.example.com:x"]}, "urls[0]", "invalid port"),
    ({"urls": []}, "urls", "at least 1 item"),
    ({"start_tls": True}, "start_tls", "start_tls applies to ldap:// URLs"),
    ({"bind_dn": "svc syncd"}, "bind_dn", "invalid DN"),
    ({"base_dns": ["DC=example,DC=com", "example.com"]}, "base_dns[1]", "invalid DN 'example.com'"),
    ({"base_dns": []}, "base_dns", "at least 1 item"),
    ({"filter": "(department=Sales"}, "filter", "unbalanced parentheses"),
    ({"filter": "department=Sales"}, "filter", "must be enclosed in parentheses"),
    ({"filter": "(a=b)(c=d)"}, "filter", "invalid LDAP filter"),
    ({"filter": "(=x)"}, "filter", "no attribute name"),
    ({"host_group": "Hosts"}, "host_group", "invalid DN 'Hosts'"),
    ({"mode": "poll"}, "mode", "'dirsync' or 'usn'"),
    ({"page_size": 1001}, "page_size", "less than or equal to 1000"),
    ({"match": ["mail", "mail"]}, "match", "may appear once"),
    ({"match": ["email"]}, "match[0]", "'mail' or 'userid'"),
    ({"match": []}, "match", "at least 1 item"),
    ({"connect_timeout": 0}, "connect_timeout", "greater than 0"),
])
def test_ad_invalid(values, key, fragment):
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"ad": [{**AD, **values}]})
    errs = errors_of(exc)
    assert list(errs) == [f"sources.ad[0].{key}"]
    assert fragment in errs[f"sources.ad[0].{key}"]


def test_ad_valid_variants():
    ad = cfg(sources={"ad": [{**AD, "urls": ["ldap://dc1.example.com:389", "ldap://dc2.example.com"],
                              "start_tls": True, "bind_dn": "svc-syncd@example.com",
                              "filter": " (&(objectClass=user)(!(employeeType=contractor))) ",
                              "host_group": "CN=WebEx Hosts,OU=Groups,DC=example,DC=com",
                              "match": ["userid"], "mode": "usn", "tls_name": ""}]}).sources.ad[0]
    assert ad.filter == "(&(objectClass=user)(!(employeeType=contractor)))"
    assert ad.tls_name is None
    assert cfg(sources={"ad": [{**AD, "urls": ["ldap://127.0.0.1:3389"], "insecure": True,
                                "bind_dn": "EXAMPLE\\svc-syncd"}]}).sources.ad[0].insecure


def test_dn_and_filter_validators():
    assert validate_dn("CN=svc-syncd,OU=Service,DC=example,DC=com") is None
    assert validate_dn("CN=a\\,b,DC=x") is None
    assert validate_dn("") == "empty DN"
    assert validate_dn("DC=example,DC=com,") is not None
    assert validate_filter("(memberOf:1.2.840.113556.1.4.1941:=CN=x,DC=y)") is None
    assert validate_filter("(cn=a\\28b\\29)") is None
    assert validate_filter("(cn=a(b))") is not None
    assert validate_filter("(cn=a))(") is not None


def test_file_source_format_and_relative_path(tmp_path):
    path = write(tmp_path, """\
        [[sources.file]]
        name = "snap"
        path = "exports/users.CSV"
        kind = "ad"
        [[sources.file]]
        name = "snap2"
        path = "/abs/users.json"
        """)
    a, b = load_config(path).sources.file
    assert a.path == str(tmp_path / "exports/users.CSV") and a.format == "csv" and a.kind == "ad"
    assert b.path == "/abs/users.json" and b.format == "jsonl" and b.kind == "cucm"


def test_api_listen_and_token():
    assert split_listen("[::1]:0") == ("::1", 0)
    assert split_listen("0.0.0.0:8765") == ("0.0.0.0", 8765)
    with pytest.raises(ConfigError) as exc:
        cfg(api={"token_env": "A", "token_file": "/b"})
    assert "set at most one of token_file, token_env, token_credential" in errors_of(exc)["api.token_file"]


# -- secrets ----------------------------------------------------------------------------------------------

def cucm_with(tmp_path: Path, secret_lines: str, mode: int = 0o600) -> str:
    return write(tmp_path, f"""\
        [[sources.cucm]]
        url = "https://cucm.example.com:8443/axl/"
        username = "axl"
        {secret_lines}
        """, mode=mode)


def test_password_file_relative_to_config_strips_one_newline(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets/cucm.secret").write_text("s3cret-value\n\n")
    c = load_config(cucm_with(tmp_path, 'password_file = "secrets/cucm.secret"'))
    src = c.sources.cucm[0]
    assert src.password_file == str(tmp_path / "secrets/cucm.secret")
    assert c.secret_for(src) == "s3cret-value\n"
    assert resolve_secret(src, src.key_path, c.path) == "s3cret-value\n"
    (tmp_path / "secrets/cucm.secret").write_text("other-secret\r\n")
    assert c.secret_for(src) == "other-secret"
    # A resolved secret is masked wherever it reaches the logs.
    assert redact_text("login with other-secret failed") == "login with *** failed"


def test_missing_secret_file_names_the_key(tmp_path):
    c = load_config(cucm_with(tmp_path, 'password_file = "/nonexistent/cucm.secret"'))
    with pytest.raises(ConfigError) as exc:
        c.secret_for(c.sources.cucm[0])
    assert str(exc.value) == f"config {c.path}: sources.cucm[0].password_file: the file it names does not exist"
    with pytest.raises(ConfigError, match=r"sources\.cucm\[0\]\.password_file: "):
        c.check_secrets()


def test_empty_secret_file_is_refused(tmp_path):
    (tmp_path / "empty.secret").write_text("\n")
    c = load_config(cucm_with(tmp_path, 'password_file = "empty.secret"'))
    with pytest.raises(ConfigError, match=r"sources\.cucm\[0\]\.password_file: the file it names is empty"):
        c.secret_for(c.sources.cucm[0])


@pytest.mark.skipif(os.getuid() == 0, reason="root reads any file")
def test_unreadable_secret_file(tmp_path):
    secret = tmp_path / "locked.secret"
    secret.write_text("x-secret")
    secret.chmod(0)
    c = load_config(cucm_with(tmp_path, f'password_file = "{secret}"'))
    with pytest.raises(ConfigError, match="permission denied"):
        c.secret_for(c.sources.cucm[0])


def test_password_env(tmp_path, monkeypatch):
    c = load_config(cucm_with(tmp_path, 'password_env = "SYNCD_TEST_PW"'))
    monkeypatch.delenv("SYNCD_TEST_PW", raising=False)
    with pytest.raises(ConfigError) as exc:
        c.secret_for(c.sources.cucm[0])
    assert errors_of(exc) == {"sources.cucm[0].password_env": "the environment variable it names is not set"}
    monkeypatch.setenv("SYNCD_TEST_PW", "env-secret-1")
    assert c.secret_for(c.sources.cucm[0]) == "env-secret-1"


def test_bad_env_and_credential_names():
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [{**CUCM, "password_env": "1-BAD"}],
                     "ad": [{**AD, "password_env": None, "password_credential": "../etc/shadow"}]})
    assert set(errors_of(exc)) == {"sources.cucm[0].password_env", "sources.ad[0].password_credential"}


def test_password_credential(tmp_path, monkeypatch):
    c = load_config(cucm_with(tmp_path, 'password_credential = "cucm-axl"'))
    src = c.sources.cucm[0]
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ConfigError, match=r"sources\.cucm\[0\]\.password_credential: \$CREDENTIALS_DIRECTORY is not"):
        c.secret_for(src)
    creds = tmp_path / "creds"
    creds.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    with pytest.raises(ConfigError, match=r"sources\.cucm\[0\]\.password_credential: the credential it names is "
                                          r"not in \$CREDENTIALS_DIRECTORY"):
        c.secret_for(src)
    (creds / "cucm-axl").write_text("cred-secret\n")
    assert c.secret_for(src) == "cred-secret"


def test_exactly_one_password_source():
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [{**CUCM, "password_env": None}]})
    assert errors_of(exc) == {"sources.cucm[0].password": "set exactly one of password_file, password_env, "
                                                          "password_credential or password"}
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"ad": [{**AD, "password_file": "/a"}]})
    assert "(found password_file, password_env)" in errors_of(exc)["sources.ad[0].password"]


def test_inline_secret_in_world_readable_file_is_refused(tmp_path):
    path = cucm_with(tmp_path, 'password = "inline-secret"', mode=0o644)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value) == (
        f"config {path}: sources.cucm[0].password: inline secret in a file readable by group or others (mode 0644); "
        "use password_file, password_env or password_credential, or chmod 600")
    os.chmod(path, 0o640)
    with pytest.raises(ConfigError, match=r"\(mode 0640\)"):
        load_config(path)


def test_inline_secret_in_private_file_is_accepted_and_never_shown(tmp_path):
    path = cucm_with(tmp_path, 'password = "inline-secret-2"', mode=0o600)
    c = load_config(path)
    src = c.sources.cucm[0]
    assert isinstance(src.password, Secret)
    assert str(src.password) == "***" and repr(src.password) == "'***'"
    assert "inline-secret-2" not in repr(c) and "inline-secret-2" not in str(c)
    assert "inline-secret-2" not in c.model_dump_json()
    assert c.secret_for(src) == "inline-secret-2"
    assert redact_text("x inline-secret-2 y") == "x *** y"
    # The file became readable later: resolving refuses too.
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by group or others"):
        c.secret_for(src)


def test_check_secrets_reports_everything_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNCD_TEST_AD_PW", raising=False)
    monkeypatch.delenv("SYNCD_TEST_API", raising=False)
    path = write(tmp_path, """\
        [[sources.cucm]]
        url = "https://cucm.example.com:8443/axl/"
        username = "axl"
        password_file = "cucm.secret"
        ca_file = "missing-ca.pem"
        wsdl = "missing.wsdl"
        [[sources.ad]]
        urls = ["ldaps://dc1.example.com"]
        bind_dn = "CN=svc,DC=example,DC=com"
        base_dns = ["DC=example,DC=com"]
        password_env = "SYNCD_TEST_AD_PW"
        [api]
        token_env = "SYNCD_TEST_API"
        """)
    c = load_config(path)     # loading reads no secret
    with pytest.raises(ConfigError) as exc:
        c.check_secrets()
    assert set(errors_of(exc)) == {"sources.cucm[0].password_file", "sources.cucm[0].ca_file",
                                   "sources.cucm[0].wsdl", "sources.ad[0].password_env", "api.token_env"}
    assert "\n" not in str(exc.value)
    (tmp_path / "cucm.secret").write_text("cucm-secret\n")
    (tmp_path / "missing-ca.pem").write_text("pem")
    (tmp_path / "missing.wsdl").write_text("wsdl")
    monkeypatch.setenv("SYNCD_TEST_AD_PW", "ad-secret")
    monkeypatch.setenv("SYNCD_TEST_API", "api-token-value")
    c.check_secrets()
    assert c.api_token() == "api-token-value"


# -- no secret in a message, no credentials in a URL -----------------------------------------------------

SECRET = "Sup3rS3cretValue42"


def test_a_secret_put_in_password_env_is_not_echoed(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET, raising=False)
    c = load_config(cucm_with(tmp_path, f'password_env = "{SECRET}"'))
    with pytest.raises(ConfigError) as exc:
        c.check_secrets()
    assert errors_of(exc) == {"sources.cucm[0].password_env": "the environment variable it names is not set"}
    assert SECRET not in str(exc.value)


@pytest.mark.parametrize("key", ["password_env", "password_credential", "password_file"])
def test_a_secret_that_is_no_name_is_not_echoed(tmp_path, monkeypatch, key):
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    secret = "pa ss/w0rd!" if key != "password_file" else SECRET
    with pytest.raises(ConfigError) as exc:
        c = load_config(cucm_with(tmp_path, f'{key} = "{secret}"'))
        c.check_secrets()
    assert secret not in str(exc.value) and "pa ss" not in str(exc.value)
    assert list(errors_of(exc)) == [f"sources.cucm[0].{key}"]


def test_api_token_places_are_not_echoed(monkeypatch):
    with pytest.raises(ConfigError) as exc:
        cfg(api={"token_env": "token-value-1"})
    assert errors_of(exc) == {"api.token_env": "does not look like an environment variable's name (letters, digits "
                                               "and _, not starting with a digit); the value is not shown (it may be "
                                               "the secret itself)"}
    monkeypatch.delenv(SECRET, raising=False)
    with pytest.raises(ConfigError) as exc:
        cfg(api={"token_env": SECRET}).api_token()
    assert errors_of(exc) == {"api.token_env": "the environment variable it names is not set"}


@pytest.mark.parametrize("url", [
    "https://axl:hunter2@cucm.example.com:8443/axl/",
    "https://axl@cucm.example.com:8443/axl/",
    "https://axl:hun/ter2@cucm.example.com:8443/axl/",       # a password with "/", "#", "?", "@", ":"
    "https://axl:h#u?n@t:er2@cucm.example.com:8443/axl/",
    "http://axl:hunter2@cucm.example.com/axl/",
])
def test_cucm_url_with_credentials_is_refused_without_echo(url):
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"cucm": [{**CUCM, "url": url}]})
    errors = exc.value.errors
    assert {key for key, _ in errors} == {"sources.cucm[0].url"}, errors
    assert errors[0][1].startswith("holds a user name or password")
    assert "hunter2" not in str(exc.value) and "hun" not in str(exc.value).replace("holds", "")


def test_ad_url_with_credentials_is_refused_and_other_errors_still_show():
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"ad": [{**AD, "urls": ["ldaps://dc1.example.com", "ldaps://svc:hunter2@dc2.example.com"],
                             "page_size": 0}]})
    assert set(errors_of(exc)) == {"sources.ad[0].urls[1]", "sources.ad[0].page_size"}
    assert "hunter2" not in str(exc.value)


def test_database_url_keeps_its_user_but_not_a_password():
    assert cfg(database={"url": "postgresql+psycopg://syncd@db.example.com/syncd"}).database.url
    assert cfg(database={"url": "sqlite:////var/lib/sync@d/syncd.db"}).database.url      # "@" in a path
    for url in ("postgresql+psycopg://syncd:hunter2@db.example.com/syncd",
                "postgresql://syncd:hun/ter2@db/syncd", "postgresql://:hunter2@db/syncd"):
        with pytest.raises(ConfigError) as exc:
            cfg(database={"url": url})
        assert list(errors_of(exc)) == ["database.url"] and "hun" not in str(exc.value).replace("holds", "")
        assert "$PGPASSFILE" in str(exc.value)


def test_a_bad_database_url_is_not_repeated():
    with pytest.raises(ConfigError) as exc:
        cfg(database={"url": "not a url hunter2"})
    assert list(errors_of(exc)) == ["database.url"] and "hunter2" not in str(exc.value)


def test_every_url_key_is_checked_for_credentials():
    """The check goes by key name (syncd/settings/urls.py): every URL field of every model must be named so."""
    from pydantic import BaseModel

    from syncd.settings.urls import _is_url_key

    def url_fields(model: type[BaseModel], seen: set[type]) -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            if "url" in name.lower() and not name.endswith("_file"):    # alerts.urls_file names a file of URLs
                found.append(name)
            for arg in [field.annotation, *getattr(field.annotation, "__args__", ())]:
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in seen:
                    seen.add(arg)
                    found += url_fields(arg, seen)
        return found

    names = url_fields(Config, set()) + [n for t in SOURCE_TYPES.values() for n in url_fields(t.options, set())]
    assert {"url", "urls"} <= set(names)
    assert all(_is_url_key(name) for name in names), names


# -- the example ------------------------------------------------------------------------------------------

EXAMPLE = REPO / "syncd" / "settings" / "example.toml"
CHECKOUT_EXAMPLE = REPO / "config" / "syncd.toml"


def test_example_copies_are_identical():
    assert CHECKOUT_EXAMPLE.read_bytes() == EXAMPLE.read_bytes(), \
        "config/syncd.toml must be a byte-identical copy of syncd/settings/example.toml " \
        "(cp syncd/settings/example.toml config/syncd.toml)"
    assert load_module.example_text() == EXAMPLE.read_text(encoding="utf-8")


def _uncommented(text: str) -> str:
    """The example with its commented-out optional tables ("# [[sources.file]]" and their "# key = ..." lines)
    turned on."""
    out, in_block = [], False
    for line in text.splitlines():
        if re.match(r"^# \[\[?[a-z.]+\]\]?\s*$", line):
            in_block = True
        if in_block and line.startswith("# "):
            out.append(line[2:])
            continue
        in_block = False
        out.append(line)
    return "\n".join(out) + "\n"


def _example_in(tmp_path: Path, text: str) -> str:
    """The example with every /etc/syncd/ file pointed into tmp_path, where those files exist."""
    for name in ("cucm.secret", "ad.secret", "api.token", "cucm-ca.pem", "ad-ca.pem"):
        (tmp_path / name).write_text(f"{name}-value\n")
    return write(tmp_path, text.replace("/etc/syncd/", f"{tmp_path}/"))


def test_example_loads_and_its_secrets_resolve(tmp_path):
    c = load_config(str(CHECKOUT_EXAMPLE))
    assert c.source_order() == ["cucm", "ad"]
    assert c.sources.cucm[0].url == "https://cucm-pub.example.com:8443/axl/"
    assert c.database.url == "sqlite:////var/lib/syncd/syncd.db"
    path = _example_in(tmp_path, CHECKOUT_EXAMPLE.read_text(encoding="utf-8"))
    c = load_config(path)
    c.check_secrets()
    assert c.secret_for(c.sources.cucm[0]) == "cucm.secret-value"
    assert c.secret_for(c.sources.ad[0]) == "ad.secret-value"
    assert c.api_token() == "api.token-value"


def test_example_with_optional_tables_enabled_loads(tmp_path):
    text = _uncommented(EXAMPLE.read_text(encoding="utf-8"))
    assert "\n[[sources.file]]\n" in text
    c = load_config(_example_in(tmp_path, text))
    assert c.source_order() == ["cucm", "ad", "hr-export"]


TOKEN_ALTERNATIVES = {"token_env", "token_credential", "read_token_env", "read_token_credential"}


def test_example_documents_every_key():
    """Every key of the schema appears in the example (with optional tables enabled), and the example sets
    the documented defaults, so a key added to the schema but not to the example fails here."""
    doc = tomllib.loads(_uncommented(EXAMPLE.read_text(encoding="utf-8")))
    models = {"database": schema_module.DatabaseConfig, "reconcile": schema_module.ReconcileConfig,
              "licenses": schema_module.LicensesConfig, "safety": schema_module.SafetyConfig,
              "schedule": schema_module.ScheduleConfig, "api": schema_module.ApiConfig,
              "logging": schema_module.LoggingConfig, "alerts": schema_module.AlertsConfig}
    assert set(doc) == set(Config.model_fields)
    for section, model in models.items():
        assert set(model.model_fields) <= set(doc[section]) | TOKEN_ALTERNATIVES, section
    secret_alternatives = {"password_env", "password_credential", "password"}
    for kind, source_type in SOURCE_TYPES.items():
        assert set(source_type.options.model_fields) <= set(doc["sources"][kind][0]) | secret_alternatives, kind
    assert set(CwmsOptions.model_fields) <= set(doc["cwms"]) | secret_alternatives
    text = EXAMPLE.read_text(encoding="utf-8")
    for alternative in sorted(secret_alternatives | TOKEN_ALTERNATIVES):
        assert alternative in text
    defaults = parse_config({})
    example = parse_toml(_uncommented(text))
    for section in ("reconcile", "safety", "schedule", "logging"):
        assert getattr(example, section) == getattr(defaults, section), section
    ex_lic, def_lic = example.licenses, defaults.licenses
    assert ex_lic.model_copy(update={"grace_limit": None, "max_concurrent_meetings": None}) == def_lic
    assert ex_lic.concurrent_meetings == def_lic.concurrent_meetings


def test_empty_required_path_is_an_error():
    with pytest.raises(ConfigError) as exc:
        cfg(sources={"file": [{"path": ""}], "cucm": [{**CUCM, "ca_file": "  "}]})
    assert errors_of(exc) == {"sources.file[0].path": "empty path", "sources.cucm[0].ca_file": "empty path"}


@pytest.mark.parametrize("key", ["release_hold", "meeting_timeout"])
@pytest.mark.parametrize("text", ["3651d", "99999999999999d"])
def test_license_durations_are_at_most_ten_years(key, text):
    assert cfg(licenses={key: "3650d"}).licenses.model_dump()[key] == timedelta(days=3650)
    with pytest.raises(ConfigError) as exc:
        cfg(licenses={key: text})
    assert list(errors_of(exc)) == [f"licenses.{key}"]
