"""A control character XML 1.0 forbids in one CUCM user (issue 14): the response is read with that character marked,
the user is refused as invalid and every other user is read exactly; the parser stays strict about the rest."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.axl.xml import MalformedXmlError, UnsafeXmlError, mark_illegal, parse_marked, parse_xml, soap_payload
from connectors.axlsim import render
from connectors.axlsim.population import SimUser, generate
from connectors.base import Invalid
from connectors.cucm import sql
from connectors.cucm.fact import CucmFact
from connectors.cucm.parse import users_from_list, users_from_sql
from connectors.facts import UNREADABLE

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
POPULATION = generate(12, 3)
BAD = SimUser("0a1b2c3d-4e5f-4789-abcd-ef0123456789", "esc", "esc@example.com", "E\x1b[2Jve", "Doe", 1, True)
FORBIDDEN = [c for c in map(chr, range(0x20)) if c not in "\t\n\r"]


def _page(users: list[SimUser]) -> bytes:
    return render.envelope("14.0", "executeSQLQuery", [render.sql_row(u, sql.COLUMNS) for u in users])


def _facts(body: bytes) -> list[CucmFact | Invalid]:
    return [CucmFact.convert(u) for u in users_from_sql(soap_payload(parse_marked(body)), sql.COLUMNS)]


def test_a_raw_esc_in_one_name_skips_that_user_and_reads_the_others():
    users = [*POPULATION[:5], BAD, *POPULATION[5:]]
    with pytest.raises(MalformedXmlError, match="Char value 27"):       # what the whole read failed with
        parse_xml(_page(users))
    facts = _facts(_page(users))
    assert facts[5] == Invalid(BAD.pkid, "name has a character XML 1.0 forbids (a control such as ESC)")
    assert [f for i, f in enumerate(facts) if i != 5] == _facts(_page(POPULATION))
    assert all(type(f) is CucmFact for f in _facts(_page(POPULATION)))


@pytest.mark.parametrize("ref", ["&#27;", "&#x1b;", "&#x1B;", "&#x0001B;",
                                 "&#0;", "&#xD800;", "&#xFFFE;", "&#x110000;", "&#1114112;"])
def test_a_reference_to_a_forbidden_character_is_marked(ref):
    body = _page([POPULATION[0]]).replace(b"<userid>", f"<userid>a{ref}b".encode(), 1)
    with pytest.raises(MalformedXmlError):
        parse_xml(body)
    facts = _facts(body)
    assert type(facts[0]) is Invalid and facts[0].reason.startswith("userid has a character XML 1.0 forbids")


@pytest.mark.parametrize("ref, text", [("&#9;", "\t"), ("&#x41;", "A"), ("&#xe9;", "é"), ("&#x1F600;", "😀")])
def test_references_to_allowed_characters_are_kept(ref, text):
    body = _page([POPULATION[0], BAD]).replace(b"<userid>", f"<userid>{ref}".encode(), 1)
    assert mark_illegal(body) is not None                  # BAD's raw ESC: the body is read marked
    users = list(users_from_sql(soap_payload(parse_marked(body)), sql.COLUMNS))
    assert users[0].userid == text + POPULATION[0].userid and UNREADABLE in (users[1].firstname or "")


@FUZZ
@given(st.sampled_from(FORBIDDEN), st.sampled_from(["firstName", "lastName", "mailid", "userid"]))
def test_any_forbidden_control_in_a_list_user_page_refuses_only_that_user(char, tag):
    bad = SimUser(BAD.pkid, "u", "u@example.com", "F", "L", 1, True)
    setattr(bad, {"firstName": "firstname", "lastName": "lastname"}.get(tag, tag), f"x{char}y")
    rows = [render.luser(u, ("firstName", "lastName", "userid", "mailid", "status")) for u in [bad, *POPULATION]]
    body = render.envelope("14.0", "listUser", rows)
    facts = [CucmFact.convert(u) for u in users_from_list(soap_payload(parse_marked(body)))]
    assert type(facts[0]) is Invalid and facts[0].key == BAD.pkid
    assert all(type(f) is CucmFact for f in facts[1:]) and len(facts) == len(POPULATION) + 1


def test_other_malformed_bodies_and_doctypes_still_fail():
    good = _page(POPULATION[:3])
    with pytest.raises(MalformedXmlError):
        parse_marked(good[: len(good) // 2] + b"\x1b")      # truncated: marking does not mend it
    with pytest.raises(MalformedXmlError):
        parse_marked(good.replace(b"<row>", b"<r\x1bow>", 1))   # in a tag name: still malformed
    with pytest.raises(UnsafeXmlError):
        parse_marked(render.entity_bomb("14.0").replace(b"lol", b"l\x1bl"))
    assert mark_illegal(good) is None


def test_only_utf8_bodies_are_marked():
    body = _page([BAD])
    latin1 = body.replace(b"UTF-8", b"ISO-8859-1", 1)
    assert mark_illegal(latin1) is None
    with pytest.raises(MalformedXmlError):
        parse_marked(latin1)
    assert mark_illegal(body.decode().replace("UTF-8", "UTF-16").encode("utf-16")) is None
    marked = mark_illegal(b"\xef\xbb\xbf" + body)
    assert marked is not None and UNREADABLE.encode() in marked
