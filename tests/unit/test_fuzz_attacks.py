"""Inputs that look like attacks (issue 7): LDAP filter metacharacters in every configurable AD value, look-alike
and differently normalised e-mail addresses, and an e-mail of 10,000 characters. (XML with DTDs and external
entities: tests/unit/test_fuzz_axl.py.)"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ldap3.operation.search import parse_filter
from ldap3.utils.conv import escape_filter_chars

from connectors.ad.connector import AdConnector
from connectors.ad.fact import AdFact
from connectors.ad.options import AdOptions
from connectors.ad.records import AdUser
from connectors.ad.values import PERSON_FILTER
from connectors.base import SourceBatch
from connectors.cucm.fact import CucmFact
from connectors.cucm.records import CucmUser
from connectors.emails import email_key
from syncd.settings import ConfigError, parse_config
from syncd.sync.plan import SourceSpec
from syncd.sync.reconcile import plan

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
CUCM, AD = SourceSpec("cucm", "cucm", CucmFact), SourceSpec("ad", "ad", AdFact)

# -- LDAP filter metacharacters ---------------------------------------------------------------------------------

META = "()&|!=*\\<>~:,+;\"#\x00\n "
metachar_text = st.text(st.sampled_from(list(META) + list("abcnCNDO0129x")), max_size=40)
FILTER_EXAMPLES = ["(cn=*))(|(cn=*)", ")(objectClass=*", "(cn=a)(|(objectClass=*))", "(|(cn=*)", "*)(uid=*))(|(uid=*",
                   "(cn=a\\29)", "(cn=\\2a)", "(!(cn=x))", "(cn=a)\x00(cn=b)", "(&)", "(|)", "(cn=x))"]
DN_EXAMPLES = ["CN=a)(cn=*,DC=x", "CN=*,DC=x", "CN=a\\,b,DC=x", "CN=a\x00,DC=x", "CN=x\n,DC=x", "CN=(a|b),DC=x",
               "CN=a\\29\\28,DC=x", ")(|(objectClass=*)", "CN=\\2a,DC=x", "CN=a\\\\,DC=x"]


def ad_table(**over: Any) -> dict[str, Any]:
    return {"name": "ad", "urls": ["ldaps://dc1.example.com"], "bind_dn": "CN=svc,DC=example,DC=com",
            "base_dns": ["DC=example,DC=com"], "password_env": "AD_PW", **over}


def config_accepts(**over: Any) -> bool:
    try:
        parse_config({"sources": {"ad": [ad_table(**over)]}})
    except ConfigError as e:
        assert all(key.startswith("sources.ad[0].") for key, _ in e.errors), e.errors
        return False
    return True


def options(**over: Any) -> AdOptions:
    base = {"name": "ad", "urls": ["ldaps://dc1.example.com"], "bind_dn": "CN=svc,DC=example,DC=com",
            "password": "x", "base_dns": ["DC=example,DC=com"]}
    return AdOptions(**{**base, **over})


def structural_depth_ok(flt: str) -> bool:
    """The composed filter's outer "(" closes only at its last character: nothing escaped the outer AND."""
    depth = 0
    for i, c in enumerate(flt):
        depth += (c == "(") - (c == ")")
        if depth == 0 and i != len(flt) - 1:
            return False
    return depth == 0


@FUZZ
@given(metachar_text)
@example(FILTER_EXAMPLES[0])
@example(FILTER_EXAMPLES[1])
@example(FILTER_EXAMPLES[2])
@example(FILTER_EXAMPLES[3])
@example(FILTER_EXAMPLES[4])
@example(FILTER_EXAMPLES[8])
@example(FILTER_EXAMPLES[11])
def test_extra_filter_is_validated_and_stays_inside_the_person_and(text):
    accepted = config_accepts(filter=text)
    stripped = text.strip()
    if accepted and stripped:
        # What the connector searches with: still an AND led by the person filter, and a well-formed filter.
        composed = AdConnector(options(filter=stripped))._person_filter()
        assert composed.startswith(f"(&{PERSON_FILTER}") and structural_depth_ok(composed), composed
        parse_filter(composed, None, auto_escape=False, auto_encode=True, validator=None, check_names=False)
        assert options(filter=stripped).name == "ad"     # the connector's model takes it


@pytest.mark.parametrize("text", FILTER_EXAMPLES)
def test_filter_injection_examples(text):
    accepted = config_accepts(filter=text)
    if accepted:
        composed = AdConnector(options(filter=text.strip()))._person_filter()
        assert structural_depth_ok(composed), composed
    if "\x00" in text or text.count("(") != text.count(")"):
        assert not accepted


class _RecordingConnection:
    """Stands in for the LDAP connection at the one seam ``_eligible`` uses: it records the filters searched."""

    def __init__(self) -> None:
        self.filters: list[str] = []
        self.extend = self
        self.standard = self

    def paged_search(self, base: str, flt: str, *args: Any, **kwargs: Any) -> Any:
        self.filters.append(flt)
        return iter(())


@FUZZ
@given(metachar_text.map(lambda s: f"CN={s},DC=example,DC=com") | metachar_text)
@example(DN_EXAMPLES[0])
@example(DN_EXAMPLES[1])
@example(DN_EXAMPLES[5])
@example(DN_EXAMPLES[7])
@example(DN_EXAMPLES[9])
def test_host_group_is_validated_and_escaped_in_the_membership_filters(dn):
    if not config_accepts(host_group=dn) or not dn.strip():
        return
    group = dn.strip()
    connector = AdConnector(options(host_group=group))
    connector._nc = "DC=example,DC=com"
    conn = _RecordingConnection()
    assert connector._eligible(conn) == set()            # type: ignore[arg-type]
    assert conn.filters
    for flt in conn.filters:
        assert structural_depth_ok(flt), flt
        parse_filter(flt, None, auto_escape=False, auto_encode=True, validator=None, check_names=False)
        assert escape_filter_chars(group) in flt     # the DN appears only escaped
    # The DN's metacharacters never reach the filter raw: the escaped value holds no structural character.
    assert not set("()*\x00") & set(escape_filter_chars(group))


@FUZZ
@given(metachar_text.map(lambda s: f"CN={s},DC=example,DC=com") | metachar_text)
@example(DN_EXAMPLES[3])
@example(DN_EXAMPLES[4])
@example(DN_EXAMPLES[7])
def test_base_dns_and_bind_dn_are_validated_the_same_by_config_and_connector(dn):
    """A DN the configuration accepts is one the connector accepts too (else every read fails at run time), and
    none carries a NUL or a line break into the LDAP request."""
    if config_accepts(base_dns=[dn]):
        assert not any(c in dn for c in "\x00\r\n"), repr(dn)
        assert options(base_dns=[dn]).name == "ad"     # the connector's model takes it
    if config_accepts(bind_dn=dn) and "=" in dn:
        assert not any(c in dn for c in "\x00\r\n"), repr(dn)
        assert options(bind_dn=dn).name == "ad"     # the connector's model takes it


@pytest.mark.parametrize("bind", ["svc-syncd@example.com", "EXAMPLE\\svc-syncd"])
def test_bind_names_the_configuration_accepts_are_usable_by_the_connector(bind):
    assert config_accepts(bind_dn=bind)
    assert options(bind_dn=bind).name == "ad"     # the connector's model takes it


# -- e-mail addresses: one person per address, however written; look-alikes are two people and a warning ------

local_part = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzéèüñçåøß0123456789._-"), min_size=1, max_size=20)
domains = st.sampled_from(["example.com", "exämple.org", "x.de"])


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """One address, and another spelling of it: per-character case, NFC or NFD, surrounding blanks."""
    addr = f"{draw(local_part)}@{draw(domains)}"
    other = "".join(c.upper() if draw(st.booleans()) else c for c in addr)
    other = unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), other)
    return addr, draw(st.sampled_from(["", " ", "\t"])) + other + draw(st.sampled_from(["", " "]))


def cu(n: int, mail: str | None) -> CucmUser:
    return CucmUser(f"00000000-0000-0000-0000-{n:012d}", f"user{n}", mail, "F", "L", 1, False)


def adu(n: int, mail: str | None) -> AdUser:
    return AdUser(f"aaaaaaaa-0000-0000-0000-{n:012d}", f"aduser{n}", None, mail, 512, None)


def two_sources(cucm_mail: str, ad_mail: str) -> Any:
    batches = {"cucm": SourceBatch("cucm", "cucm", [cu(1, cucm_mail)], complete=True, full=True, cursor={"n": 1}),
               "ad": SourceBatch("ad", "ad", [adu(1, ad_mail)], complete=True, full=True, cursor={"n": 1})}
    return plan([CUCM, AD], batches, {}, {}, NOW)


@FUZZ
@given(spellings())
@example(("stra\u00dfe@x.de", "STRASSE@X.DE"))
@example(("\u00e9mile@example.com", "E\u0301MILE@EXAMPLE.COM"))
def test_case_and_normalisation_variants_are_one_person(pair):
    addr, other = pair
    assert email_key(addr) == email_key(other)
    p = two_sources(addr, other)
    assert p.count("created") == 1, [c.sentence for c in p.changes]
    assert not p.warnings or all("look-alike" not in w for w in p.warnings)


LOOKALIKES = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440", "x": "\u0445"}


@FUZZ
@given(local_part.filter(lambda s: any(c in LOOKALIKES for c in s)), domains, st.data())
def test_lookalike_letters_are_two_people_and_a_warning(local, domain, data):
    latin = f"{local}@{domain}"
    i = data.draw(st.sampled_from([i for i, c in enumerate(local) if c in LOOKALIKES]))
    spoof = f"{local[:i]}{LOOKALIKES[local[i]]}{local[i + 1:]}@{domain}"
    assert email_key(latin) != email_key(spoof)
    batches = {"cucm": SourceBatch("cucm", "cucm", [cu(1, latin), cu(2, spoof)], complete=True, full=True,
                                   cursor={"n": 1})}
    p = plan([CUCM], batches, {}, {}, NOW)
    assert p.count("created") == 2
    assert any("look-alike" in w for w in p.warnings), p.warnings


@pytest.mark.parametrize("mail", ["a" * 10_000 + "@example.com", "a@" + "b" * 10_000, "@" * 10_000,
                                  ("a" * 64 + "@") * 200])
def test_an_email_of_10000_characters_is_skipped(mail):
    assert email_key(mail) is None
    batches = {"cucm": SourceBatch("cucm", "cucm", [cu(1, mail), cu(2, "ok@example.com")], complete=True, full=True,
                                   cursor={"n": 1})}
    p = plan([CUCM], batches, {}, {}, NOW)
    assert p.count("created") == 1 and p.skipped_no_email == 1
