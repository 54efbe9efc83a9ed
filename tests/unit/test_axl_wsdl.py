"""The shipped small WSDL and Cisco's full AXL toolkit WSDL produce byte-identical requests; versions match."""

from __future__ import annotations

import pytest
import zeep
from lxml import etree

from connectors.axl.xml import BINDING
from connectors.cucm.client import SHIPPED_WSDL, AxlClient
from connectors.cucm.connector import GET_TAGS, LIST_TAGS, OBJECTS, CucmConnector
from connectors.cucm.options import CucmOptions
from tests.axlschema import need_schema_file

CALLS = [
    ("listUser", dict(searchCriteria={"userid": "%"}, returnedTags=LIST_TAGS, skip=2000, first=1000)),
    ("getUser", dict(uuid="{0A1B2C3D-4E5F-6789-ABCD-EF0123456789}", returnedTags=GET_TAGS)),
    ("getUser", dict(uuid="{0A1B2C3D-4E5F-6789-ABCD-EF0123456789}", returnedTags={"ldapDirectoryName": ""})),
    ("executeSQLQuery", dict(sql="SELECT FIRST 10 pkid FROM enduser WHERE pkid > '0a' AND x < 1 & y ORDER BY pkid")),
    ("listChange", dict(objectList=OBJECTS)),
    ("listChange", dict(startChangeId={"queueId": "q-1", "_value_1": 42}, objectList=OBJECTS)),
]


def _messages(wsdl: str, version: str = "14.0") -> list[tuple[str, bytes]]:
    opts = CucmOptions(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p", version=version,
                       wsdl=wsdl if wsdl != str(SHIPPED_WSDL) else None)
    client = AxlClient(opts)
    svc, z = client._service, client._zeep
    out = [(svc._binding.get(op).soapaction, etree.tostring(z.create_message(svc, op, **kw))) for op, kw in CALLS]
    client.close()
    return out


def test_shipped_and_full_wsdl_give_byte_identical_requests_and_soapactions():
    shipped = _messages(str(SHIPPED_WSDL))
    full = _messages(str(need_schema_file("AXLAPI.wsdl")))
    assert shipped == full
    assert shipped[0][0] == "CUCM:DB ver=14.0 listUser"
    assert b"<skip>2000</skip><first>1000</first>" in shipped[0][1]       # child elements, not attributes
    assert b"&lt; 1 &amp; y" in shipped[3][1]


def test_configured_version_sets_namespace_and_soapaction_together():
    for version in ("11.5", "12.5", "15.0"):
        for action, body in _messages(str(SHIPPED_WSDL), version):
            assert action.startswith(f"CUCM:DB ver={version} ")
            assert f'xmlns:ns0="http://www.cisco.com/AXL/API/{version}"'.encode() in body


def test_a_site_wsdl_for_another_version_is_refused():
    with pytest.raises(ValueError, match="another AXL version"):
        CucmConnector(CucmOptions(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p",
                                  version="12.5", wsdl=str(need_schema_file("AXLAPI.wsdl"))))


@pytest.mark.parametrize(("field", "value"), [("version", "10.5"), ("version", "16.0"), ("version", "14"),
                                              ("method", "ldap"), ("ldap_flag", "x"), ("page_size", 0),
                                              ("url", "ftp://x/axl/"), ("ca_file", "/nonexistent/ca.pem"),
                                              ("wsdl", "/nonexistent/AXLAPI.wsdl")])
def test_bad_settings_are_refused_with_a_reason(field, value):
    kw = dict(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p")
    kw[field] = value
    with pytest.raises(ValueError):
        CucmConnector(CucmOptions(**kw))


def test_plain_http_is_refused_unless_insecure():
    kw = dict(name="t", url="http://127.0.0.1:9/axl/", username="u", password="p")
    with pytest.raises(ValueError, match="plain http sends the AXL password in clear text"):
        CucmConnector(CucmOptions(**kw))
    CucmConnector(CucmOptions(**kw, insecure=True)).close()


def test_a_broken_site_wsdl_is_refused_with_a_reason(tmp_path):
    bad = tmp_path / "AXLAPI.wsdl"
    bad.write_text("<definitions>")
    with pytest.raises(ValueError, match="cannot load the AXL WSDL"):
        CucmConnector(CucmOptions(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p",
                                  wsdl=str(bad)))


def test_client_start_is_cheap_with_the_shipped_wsdl():
    import time

    start = time.perf_counter()
    c = CucmConnector(CucmOptions(name="t", url="https://127.0.0.1:9/axl/", username="u", password="p"))
    elapsed = time.perf_counter() - start
    c.close()
    assert elapsed < 0.3


def test_the_shipped_wsdl_forbids_dtds_and_entities_when_loading():
    client = zeep.Client(str(SHIPPED_WSDL), settings=zeep.Settings(forbid_dtd=True, forbid_entities=True,
                                                                  forbid_external=True))
    assert client.create_service(BINDING, "https://127.0.0.1:9/axl/")


def test_the_password_never_shows_in_the_options_repr():
    opts = CucmOptions(name="t", url="https://h:8443/axl/", username="axl", password="s3cr3t-value")
    assert "s3cr3t-value" not in repr(opts)
