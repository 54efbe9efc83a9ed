"""``[alerts]`` (syncd/settings/alert_urls.py): alert URLs are secrets. They are named by a label that shows no
secret, registered with the log redactor, refused inline in a file others can read when they hold a password or
token, and ``urls_file`` is refused when group or others can read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.logging import redact_text
from syncd.settings import ConfigError, load_config
from tests import secretscan

TOKEN = "Zq7xW2rT9kLm4Np8Vb3Hc6Jd1Fg5Ys0a"


@pytest.fixture(autouse=True)
def _scanned() -> None:
    secretscan.register(TOKEN, "an alert URL's token")


def _config(tmp_path: Path, body: str, mode: int = 0o600) -> Path:
    path = tmp_path / "syncd.toml"
    path.write_text(body)
    path.chmod(mode)
    return path


def _errors(exc: pytest.ExceptionInfo[ConfigError]) -> dict[str, str]:
    return dict(exc.value.errors)


def test_urls_file_is_read_with_comments_and_duplicates_dropped(tmp_path: Path):
    urls = tmp_path / "alerts.urls"
    urls.write_text(f"# receivers\n\njson://127.0.0.1:9/hook\n  wxteams://{TOKEN}  \njson://127.0.0.1:9/hook\n")
    urls.chmod(0o600)
    config = load_config(str(_config(tmp_path, '[alerts]\nurls_file = "alerts.urls"\n', 0o644)))
    got = config.alert_urls()
    assert [u.label for u in got] == ["json://127.0.0.1:9", "wxteams://Z...a"]
    assert TOKEN not in repr(got) and redact_text(f"token {TOKEN}") == "token ***"
    config.check_secrets()


def test_a_urls_file_others_can_read_is_refused(tmp_path: Path):
    urls = tmp_path / "alerts.urls"
    urls.write_text(f"wxteams://{TOKEN}\n")
    urls.chmod(0o640)
    config = load_config(str(_config(tmp_path, '[alerts]\nurls_file = "alerts.urls"\n')))
    with pytest.raises(ConfigError) as exc:
        config.check_secrets()
    assert _errors(exc) == {"alerts.urls_file": "the file it names can be read by group or others (mode 0640); it "
                                                "holds secrets: chmod 600 it"}


def test_an_inline_url_with_a_secret_needs_a_private_file(tmp_path: Path):
    mail = f"mailto://bob:{TOKEN}@127.0.0.1:2525?to=a@example.com&from=s@example.com"
    body = f'[alerts]\nurls = ["json://127.0.0.1:9/hook", "{mail}", "nonsense://secret-value-here"]\n'
    config = load_config(str(_config(tmp_path, body, 0o644)))   # loads: the URLs are read when used
    with pytest.raises(ConfigError) as exc:
        config.alert_urls()
    errors = _errors(exc)
    assert set(errors) == {"alerts.urls[1]", "alerts.urls[2]"}
    assert errors["alerts.urls[1]"].startswith("holds a password or token (mailto://127.0.0.1:2525): inline secret")
    assert errors["alerts.urls[2]"] == "apprise does not understand this URL (nonsense://; the value is not shown)"
    assert TOKEN not in str(exc.value) and "secret-value-here" not in str(exc.value)
    private = load_config(str(_config(tmp_path, body.replace(', "nonsense://secret-value-here"', ""))))
    assert [u.label for u in private.alert_urls()] == ["json://127.0.0.1:9", "mailto://127.0.0.1:2525"]


def test_an_alert_url_that_is_not_a_url_is_refused_without_its_value(tmp_path: Path):
    with pytest.raises(ConfigError) as exc:
        load_config(str(_config(tmp_path, f'[alerts]\nurls = ["{TOKEN}"]\nafter_failures = 0\n')))
    errors = _errors(exc)
    assert errors["alerts.urls"] == "entry 0 is not an apprise URL (SCHEME://...; the value is not shown)"
    assert "alerts.after_failures" in errors and TOKEN not in str(exc.value)


def test_no_alerts_configured_reads_nothing(tmp_path: Path):
    config = load_config(str(_config(tmp_path, "")))
    assert config.alert_urls() == [] and config.alerts.after_failures == 3 and config.alerts.grace_warning_days == 14
