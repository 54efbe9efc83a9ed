"""Full reads against the simulator over real HTTP: SQL and listUser give the same people."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.axlsim import Simulator

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _expected(sim: Simulator) -> dict[str, tuple]:
    return {u.pkid: (u.userid, u.mailid, u.firstname, u.lastname, u.status, u.ldap) for u in sim.population}


def _got(batch) -> dict[str, tuple]:
    return {r.uuid: (r.userid, r.mailid, r.firstname, r.lastname, r.status, r.ldap_synced) for r in batch.records}


def test_sql_full_read_returns_every_user_exactly(big_sim, make_conn):
    batch = make_conn(big_sim, method="sql", page_size=1000).read(None, False, NOW)
    assert batch.error is None and batch.complete and batch.full
    assert batch.source == "cucm" and batch.source_type == "cucm"
    assert len(batch.records) == 20_000
    assert _got(batch) == _expected(big_sim)
    assert "no stored cursor: full read" in batch.notes and "plain HTTP (no TLS)" in batch.notes
    assert batch.cursor == {"queue_id": big_sim.queue_id, "next_start_change_id": 1}
    # the population has what a real cluster has; the reads keep it intact
    recs = batch.records
    assert any(r.status == 2 for r in recs) and any(r.mailid is None for r in recs)
    assert any(r.ldap_synced is False for r in recs) and any(r.ldap_synced for r in recs)
    assert any(r.lastname == "Smith & Sons" for r in recs) and any(r.lastname == "<Admin>" for r in recs)
    assert any(r.firstname == "Zoë" for r in recs) and any(r.lastname == "山田" for r in recs)
    mails = [r.mailid for r in recs if r.mailid]
    assert len(mails) > len(set(mails))          # duplicate e-mails survive the read
    assert all(r.uuid == r.uuid.lower() and "{" not in r.uuid for r in recs)


def test_list_full_read_gives_the_same_people_as_sql(big_sim, make_conn):
    by_sql = make_conn(big_sim, method="sql").read(None, True, NOW)
    by_list = make_conn(big_sim, method="list", ldap_flag="sql", page_size=1500).read(None, True, NOW)
    assert by_list.complete and by_list.error is None and by_list.full
    assert _got(by_list) == _got(by_sql)


def test_list_ldap_flag_from_getuser_and_from_ad(sim, make_conn):
    expected = _expected(sim)
    by_get = make_conn(sim, method="list", ldap_flag="getuser", page_size=100).read(None, True, NOW)
    assert by_get.complete and _got(by_get) == expected
    by_ad = make_conn(sim, method="list", ldap_flag="ad", page_size=100).read(None, True, NOW)
    assert by_ad.complete
    assert all(r.ldap_synced is None for r in by_ad.records)
    assert {r.uuid for r in by_ad.records} == set(expected)


@pytest.mark.parametrize("method", ["sql", "list"])
def test_page_size_is_halved_when_cucm_says_query_too_large(make_conn, method):
    with Simulator(2_000, seed=2, response_limit=100_000) as small_limit:   # ~400 SQL rows fit in 100 kB
        conn = make_conn(small_limit, method=method, ldap_flag="ad", page_size=2000)
        batch = conn.read(None, True, NOW)
        assert batch.complete and batch.error is None
        assert len(batch.records) == 2_000 and len({r.uuid for r in batch.records}) == 2_000
        assert conn._client.requests_sent > 5     # it went down to pages that fit


def test_a_page_size_of_one_row_that_is_still_too_large_fails_the_source(make_conn):
    with Simulator(20, seed=2, response_limit=50) as tiny:
        batch = make_conn(tiny, page_size=4).read(None, True, NOW)
    assert not batch.complete and batch.records == []
    assert "Query request too large" in batch.error and "\n" not in batch.error


def test_several_clusters_keep_their_own_names_and_cursors(make_conn):
    with Simulator(50, seed=1) as a, Simulator(70, seed=2) as b:
        ca, cb = make_conn(a, name="cucm-eu"), make_conn(b, name="cucm-us")
        ba, bb = ca.read(None, False, NOW), cb.read(None, False, NOW)
        assert (ba.source, len(ba.records)) == ("cucm-eu", 50)
        assert (bb.source, len(bb.records)) == ("cucm-us", 70)
        assert ba.cursor["queue_id"] == a.queue_id != bb.cursor["queue_id"] == b.queue_id
        a.set_status(a.population[0].userid, 2)
        ia, ib = ca.read(ba.cursor, False, NOW), cb.read(bb.cursor, False, NOW)
        assert [r.uuid for r in ia.records] == [a.population[0].pkid] and ib.records == []
        assert not ia.full and not ib.full


def test_other_axl_versions_send_matching_namespace_and_soapaction(make_conn):
    # the simulator faults when the SOAPAction version and the namespace version differ
    with Simulator(120, seed=3, record=True) as sim:
        for version in ("11.5", "15.0"):
            batch = make_conn(sim, version=version, page_size=50).read(None, False, NOW)
            assert batch.complete and len(batch.records) == 120, batch.error
        assert {x.version for x in sim.exchanges} == {"11.5", "15.0"}
        assert all(x.status == 200 for x in sim.exchanges)


def test_a_site_toolkit_wsdl_reads_the_same_people(big_sim, make_conn):
    from tests.axlschema import need_schema_file

    wsdl = need_schema_file("AXLAPI.wsdl")
    by_site = make_conn(big_sim, wsdl=str(wsdl), page_size=5000).read(None, True, NOW)
    assert by_site.complete and _got(by_site) == _expected(big_sim)


def test_a_url_without_the_trailing_slash_is_completed(sim, make_conn):
    batch = make_conn(sim, url=sim.url.rstrip("/")).read(None, False, NOW)
    assert batch.complete and len(batch.records) == 300
    assert all(x.status == 200 for x in sim.exchanges)


@pytest.mark.parametrize("method", ["sql", "list"])
def test_a_full_read_converts_each_page_as_it_arrives(sim, make_conn, method):
    """syncd keeps a compact fact of each record: the records of a page must be handed over before the next page is
    asked for, or a 400,000-user read would hold every record at once."""
    plain = make_conn(sim, method=method, page_size=50).read(None, True, NOW)
    conn = make_conn(sim, method=method, page_size=50)
    requests_at: list[int] = []

    def convert(r):
        requests_at.append(conn._client.requests_sent)
        return ("kept", r.uuid)

    batch = conn.read(None, True, NOW, convert=convert)
    assert batch.complete and batch.records == [("kept", r.uuid) for r in plain.records]
    assert requests_at == sorted(requests_at)
    assert len(set(requests_at)) >= len(plain.records) // 50      # one moment per page, not one at the end
