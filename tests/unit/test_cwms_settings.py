"""`[cwms]` in the configuration (DESIGN.md 12): its keys with their paths, the password rules every source has,
``max_pushes`` defaulting to the safety gate's limit, and the source name it reserves."""

from __future__ import annotations

import pytest

from syncd.settings import load_config
from syncd.settings.keys import ConfigError
from tests.unit.test_config import errors_of, write

SITE = """\
    [cwms]
    url = "https://cwms.example.com/WBXService/XMLService"
    site_name = "cwms"
    username = "syncd-admin"
    """


def test_a_site_with_its_defaults(tmp_path):
    c = load_config(write(tmp_path, SITE + 'password_env = "CWMS_PW"\n[safety]\nmax_deactivations = 40\n'))
    assert c.cwms is not None and c.cwms.push == "off" and c.cwms.push_activations is False
    assert c.cwms.page_size == 500 and c.max_pushes == 40
    c = load_config(write(tmp_path, SITE + 'password_env = "CWMS_PW"\nmax_pushes = 3\n'))
    assert c.max_pushes == 3


def test_no_site_no_cwms(tmp_path):
    assert load_config(write(tmp_path, "[safety]\n")).cwms is None


def test_every_error_names_its_key(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, SITE + 'push = "yes"\npage_size = 501\n'))
    errs = errors_of(exc)
    assert set(errs) == {"cwms.push", "cwms.page_size"}, errs
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, SITE))
    assert "set exactly one of password_file" in errors_of(exc)["cwms.password"]
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, SITE.replace("https://", "http://") + 'password_env = "X"\n'))
    assert any(k.startswith("cwms") for k in errors_of(exc))


def test_an_inline_password_is_refused_from_a_readable_file(tmp_path):
    text = SITE + 'password = "s3cret-cwms-pw"\n'
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text, mode=0o644))
    assert "cwms.password" in errors_of(exc)
    assert "s3cret-cwms-pw" not in str(exc.value)
    assert load_config(write(tmp_path, text)).cwms is not None


def test_config_check_reads_the_cwms_password_and_ca_file(tmp_path):
    c = load_config(write(tmp_path, SITE + f'password_file = "{tmp_path / "none"}"\nca_file = "{tmp_path / "ca"}"\n'))
    with pytest.raises(ConfigError) as exc:
        c.check_secrets()
    assert {"cwms.password_file", "cwms.ca_file"} <= set(errors_of(exc))


def test_no_source_may_be_named_cwms(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, '[[sources.file]]\nname = "cwms"\npath = "/x.jsonl"\n'))
    assert "sources.file[0].name" in errors_of(exc)
