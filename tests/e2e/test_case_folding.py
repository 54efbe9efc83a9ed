"""Case folding beyond lower case is never silent (issue 14): DESIGN 11 folds an address fully (``str.casefold``),
so 'STRAßE@' is the person 'strasse@' and the ligature in 'o\ufb00ice@' folds to 'office@'. The merge stands, and
every sync names each such address in a warning, in JSON and in text. On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.e2e.site import Site, cucm_row


def test_an_address_folded_beyond_lower_case_is_one_person_and_a_warning(site: Site):
    site.write_users({1: cucm_row(1, mail="STRAßE@example.com"), 2: cucm_row(2, mail="o\ufb00ice@example.com"),
                      3: cucm_row(3, mail="Ünal@example.com")})
    report = site.json("sync")
    warned = [w for w in report["warnings"] if "case folding" in w]
    assert any("STRAßE@example.com is the person strasse@example.com" in w for w in warned), report["warnings"]
    assert any("o\ufb00ice@example.com is the person office@example.com" in w for w in warned), report["warnings"]
    assert not any("Ünal" in w for w in warned), warned     # plain lower case: nothing to say
    assert len(warned) == 2
    assert site.json("users", "show", "strasse@example.com")["email"] == "strasse@example.com"
    assert site.json("users", "show", "Straße@example.com")["email"] == "strasse@example.com"
    text = site.run("sync").stdout
    assert "STRAßE@example.com is the person strasse@example.com" in text
