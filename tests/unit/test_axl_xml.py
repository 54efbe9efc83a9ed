"""Safe XML parsing, fault reading, response parsing and the simulator's SQL subset (no network)."""

from __future__ import annotations

import pytest

from connectors.axl.faults import parse_fault
from connectors.axl.xml import MalformedXmlError, UnsafeXmlError, parse_xml, soap_payload
from connectors.axlsim import render
from connectors.axlsim.population import SimUser
from connectors.axlsim.sqlquery import SqlError
from connectors.axlsim.sqlquery import parse as parse_sql
from connectors.cucm import sql
from connectors.cucm.parse import change_page, norm_uuid, users_from_list, users_from_sql

U = SimUser("0a1b2c3d-4e5f-4789-abcd-ef0123456789", "jdoe", "Jane.Doe@Example.com", "Zoë", "O'Brien & <Co>", 2,
            True)
L = SimUser("1a1b2c3d-4e5f-4789-abcd-ef0123456789", "local", None, None, None, 1, False)


@pytest.mark.parametrize("body", [
    render.entity_bomb("14.0"),
    b'<?xml version="1.0"?>\n<!-- hi -->\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b"\xef\xbb\xbf<!DOCTYPE x><x/>",
])
def test_doctype_is_refused(body):
    with pytest.raises(UnsafeXmlError):
        parse_xml(body)


def test_malformed_and_non_soap_bodies_are_reported():
    with pytest.raises(MalformedXmlError):
        parse_xml(b"<a><b></a>")
    with pytest.raises(MalformedXmlError):
        soap_payload(parse_xml(b"<a/>"))
    assert parse_xml(b"<x>&lt;!DOCTYPE</x>").text == "<!DOCTYPE"    # escaped text is just text


def test_sql_rows_parse_to_records_with_special_characters_and_nulls():
    body = render.envelope("14.0", "executeSQLQuery", [render.sql_row(u, sql.COLUMNS) for u in (U, L)])
    a, b = users_from_sql(soap_payload(parse_xml(body)), sql.COLUMNS)
    assert (a.uuid, a.userid, a.mailid, a.firstname, a.lastname, a.status, a.ldap_synced) == (
        U.pkid, "jdoe", "Jane.Doe@Example.com", "Zoë", "O'Brien & <Co>", 2, True)
    assert (b.mailid, b.firstname, b.ldap_synced, b.active) == (None, None, False, True)


def test_sql_rows_in_another_column_order_or_with_omitted_nulls_are_read_by_name():
    cols = tuple(reversed(sql.COLUMNS))
    rows = [render.sql_row(U, cols), render.sql_row(L, cols).replace(b"<mailid/>", b"")]
    a, b = users_from_sql(soap_payload(parse_xml(render.envelope("14.0", "executeSQLQuery", rows))), sql.COLUMNS)
    assert (a.uuid, a.userid, a.lastname, a.status, a.ldap_synced) == (U.pkid, "jdoe", "O'Brien & <Co>", 2, True)
    assert (b.uuid, b.userid, b.mailid, b.ldap_synced) == (L.pkid, "local", None, False)


def test_luser_pages_parse_with_braced_upper_case_uuids():
    body = render.envelope("14.0", "listUser", [render.luser(U, ("firstName", "lastName", "userid", "status"))])
    (a,) = users_from_list(soap_payload(parse_xml(body)))
    assert a.uuid == U.pkid and a.lastname == "O'Brien & <Co>" and a.ldap_synced is None and a.mailid is None
    odd = render.envelope("14.0", "listUser", [render.luser(U, ("userid", "mailid", "status"))])
    (b,) = users_from_list(soap_payload(parse_xml(odd)))
    assert (b.uuid, b.userid, b.mailid, b.firstname, b.status) == (U.pkid, "jdoe", "Jane.Doe@Example.com", None, 2)
    assert norm_uuid("{0A1B2C3D-4E5F-4789-ABCD-EF0123456789}") == U.pkid


def test_change_page_reads_queue_info_and_user_changes_only():
    body = render.change_response("14.0", {"firstChangeId": 3, "lastChangeId": 9, "nextStartChangeId": 5,
                                           "queueId": "q"},
                                  [render.change(3, "u", U.uuid, False, {"status": "2"}),
                                   render.change(4, "r", L.uuid, False, {})])
    phone = f'<change type="User" uuid="{L.uuid}"'.encode()
    body = body.replace(phone, phone.replace(b"User", b"Phone"))
    page = change_page(soap_payload(parse_xml(body)))
    assert (page.queue_id, page.first_change_id, page.last_change_id, page.next_start_change_id) == ("q", 3, 9, 5)
    assert [(c.id, c.action, c.uuid, c.do_get, c.tags) for c in page.changes] == [(3, "u", U.pkid, False,
                                                                                   {"status": "2"})]


def test_unqualified_fault_is_read():
    f = parse_fault(soap_payload(parse_xml(render.fault(-1, "Query request too large. Total rows matched: 9 rows. "
                                                            "Suggestive Row Fetch: less than 4 rows", "listUser"))))
    assert f.axlcode == -1 and f.too_large and not f.memory and f.request == "listUser"


def test_sql_builders_and_the_simulators_parser_agree():
    q = parse_sql(sql.page_after(U.pkid, 500))
    assert (q.columns, q.first, q.after) == (sql.COLUMNS, 500, U.pkid)
    q = parse_sql(sql.by_pkids([U.pkid, L.pkid], sql.FLAG_COLUMNS))
    assert q.pkids == (U.pkid, L.pkid) and q.columns == sql.FLAG_COLUMNS
    q = parse_sql("select skip 10 first 5 e.pkid, e.userid from enduser e where e.status = 2 order by e.pkid")
    assert (q.skip, q.first, q.status, q.columns) == (10, 5, 2, ("pkid", "userid"))
    with pytest.raises(ValueError):
        sql.by_pkids(["x' OR 1=1 --"])
    with pytest.raises(SqlError):
        parse_sql("select password from enduser")
    with pytest.raises(SqlError):
        parse_sql("delete from enduser")


def test_sql_paging_stops_on_a_page_that_does_not_advance(monkeypatch):
    from datetime import UTC, datetime

    from connectors.cucm.client import AxlClient
    from connectors.cucm.connector import CucmConnector
    from connectors.cucm.options import CucmOptions

    page = soap_payload(parse_xml(render.envelope("14.0", "executeSQLQuery", [render.sql_row(U, sql.COLUMNS)])))
    monkeypatch.setattr(AxlClient, "call", lambda self, op, **kw: page)     # the same page again and again
    conn = CucmConnector(CucmOptions(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p",
                                     page_size=1))
    batch = conn.read(None, True, datetime.now(UTC))
    assert not batch.complete and "does not advance" in batch.error


def test_list_paging_stops_when_pages_repeat(monkeypatch):
    from datetime import UTC, datetime

    from connectors.cucm.client import AxlClient
    from connectors.cucm.connector import CucmConnector
    from connectors.cucm.options import CucmOptions

    page = soap_payload(parse_xml(render.envelope("14.0", "listUser", [render.luser(U, ("userid",))])))
    monkeypatch.setattr(AxlClient, "call", lambda self, op, **kw: page)     # skip ignored: the same page
    conn = CucmConnector(CucmOptions(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p",
                                     method="list", ldap_flag="ad", page_size=1))
    batch = conn.read(None, True, datetime.now(UTC))
    assert not batch.complete and "already read" in batch.error
