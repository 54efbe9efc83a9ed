"""Drift between people and CWMS accounts (syncd/push/drift.py), the pushes a plan takes from it, and the offline
CSV's cells (syncd/push/export.py)."""

from __future__ import annotations

from syncd.push.drift import ACTIVATE, DEACTIVATE, Accounts, drift
from syncd.push.export import inert, split_name


def _acct(webex_id: str, email: str | None, active: str = "ACTIVATED") -> str:
    """An account as a line of connectors.cwms.xmlapi.user_rows."""
    return f"{webex_id}\t{email or ''}\t{active}\tF\tL\t1"


def collect(rows: list[str], page: int = 3) -> Accounts:
    accounts = Accounts()
    for i in range(0, len(rows), page):
        accounts.add_page(rows[i:i + page])
    return accounts


def test_leaks_blocked_and_accounts_of_nobody():
    accounts = collect([
        _acct("ann", "Ann@Example.com"),                        # inactive person, ACTIVATED: a leak
        _acct("bob@example.com", "bob@example.com", "DEACTIVATED"),   # active person, DEACTIVATED: blocked
        _acct("cy", "cy@example.com", "REQUEST_TO_ACTIVATE"),   # active person, not ACTIVATED: blocked
        _acct("dee", "dee@example.com"),                        # active and ACTIVATED: in step
        _acct("eve", "eve@example.com", "DEACTIVATED"),         # inactive and DEACTIVATED: in step
        _acct("zed", "zed@example.com"),                        # no person: cwms_only
        _acct("nomail", None),                                  # counted, matched to nobody
    ])
    active = {"ann@example.com": False, "bob@example.com": True, "cy@example.com": True, "dee@example.com": True,
              "eve@example.com": False, "fay@example.com": False}
    d = drift(active, accounts)
    assert [(p.email, p.webex_id, p.action) for p in d.leaks] == [("ann@example.com", "ann", DEACTIVATE)]
    assert [(p.email, p.webex_id, p.action) for p in d.blocked] == [
        ("bob@example.com", "bob@example.com", ACTIVATE), ("cy@example.com", "cy", ACTIVATE)]
    assert (d.cwms_only, d.cwms_only_listed) == (1, ["zed@example.com"])
    assert (accounts.read, d.no_email) == (7, 1)
    assert d.pushes(activations=False) == d.leaks
    assert d.pushes(activations=True) == d.leaks + d.blocked
    assert d.leaks[0].sentence == "deactivate CWMS account ann of ann@example.com"
    assert d.leaks[0].target == "DEACTIVATED" and d.blocked[0].target == "ACTIVATED"


def test_two_accounts_of_one_person_are_each_judged():
    accounts = collect([_acct("a1", "a@example.com", "DEACTIVATED"), _acct("a2", "a@example.com"),
                        _acct("a3", "a@example.com")])
    d = drift({"a@example.com": False}, accounts)
    assert [p.webex_id for p in d.leaks] == ["a2", "a3"]        # both still bind a license


def test_a_line_that_could_not_be_split_back_matches_nobody():
    accounts = collect(["x\ty@example.com\tACTIVATED\t\t\t0"])
    d = drift({"y@example.com": False}, accounts)
    assert (d.leaks, d.no_email) == ([], 1)


def test_csv_cells_that_a_spreadsheet_would_run_are_inert():
    for cell in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert inert(cell) == "'" + cell
    assert inert("Ada") == "Ada" and inert("") == ""
    assert split_name("Ada King Lovelace", "a@x") == ("Ada King", "Lovelace")
    assert split_name(None, "ada@x.com") == ("ada", "ada")
