"""Every request the connector sends and every response the simulator sends validates against Cisco's AXLSoap.xsd."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.axlsim import Simulator

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_requests_and_responses_validate_against_axlsoap_xsd(validate, make_conn):
    with Simulator(400, seed=6, record=True, change_page=2) as sim:
        for method, flag in (("sql", "sql"), ("list", "sql"), ("list", "getuser")):
            conn = make_conn(sim, method=method, ldap_flag=flag, page_size=150)
            base = conn.read(None, False, NOW)
            assert base.complete
            pop = sim.population
            sim.set_status(pop[0].userid, 2)
            sim.set_mail(pop[1].userid, "x&y@example.com")
            sim.add_user(f"new-{method}-{flag}", "new@example.com", "Ä", "<B>")
            sim.remove_user(pop[2].userid)
            inc = conn.read(base.cursor, False, NOW)
            assert inc.complete and not inc.full and len(inc.records) == 4
        # faults and odd answers, as the simulator sends them
        sim.inject_fault("memory", op="listChange")
        sim.inject_fault("too_large", op="listChange")
        make_conn(sim).read(None, False, NOW)
        make_conn(sim, method="list").read({"queue_id": "stale", "next_start_change_id": 1}, False, NOW)
        sim.remove_user(sim.population[5].userid)
        make_conn(sim, method="list", ldap_flag="getuser").read(None, True, NOW)
    ops = {(x.op, x.status) for x in sim.exchanges}
    assert {("executeSQLQuery", 200), ("listUser", 200), ("getUser", 200), ("listChange", 200),
            ("listChange", 500)} <= ops
    checked = 0
    for x in sim.exchanges:
        validate(x.request)
        if x.response:
            validate(x.response)
        checked += 1
    assert checked > 50


def test_an_empty_return_and_a_not_found_fault_validate(validate, make_conn):
    with Simulator(5, seed=1, record=True) as sim:
        conn = make_conn(sim, method="list", ldap_flag="getuser", page_size=5)
        assert len(conn.read(None, False, NOW).records) == 5      # the second page is an empty <return/>
        assert conn._get_user("00000000-0000-4000-8000-000000000000", {"userid": ""}) is None   # axlcode 5007
    assert any(x.op == "getUser" and x.status == 500 and b"5007" in x.response for x in sim.exchanges)
    assert any(x.op == "listUser" and x.response.count(b"<user ") == 0 for x in sim.exchanges)
    for x in sim.exchanges:
        validate(x.request)
        validate(x.response)
