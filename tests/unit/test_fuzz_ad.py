"""Bad input to the LDAP record normaliser (issue 7): whatever raw attribute values a directory sends (random
bytes, non-UTF-8, huge numbers, odd attribute-name case, extended and malformed DNs), an entry becomes a correct
AdUser or None (no usable objectGUID), never an exception or a hang."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.ad.records import AdUser
from connectors.ad.values import (
    TOMBSTONE_ATTRIBUTES,
    USER_ATTRIBUTES,
    datetime_to_filetime,
    filetime_to_datetime,
    generalized_time,
    guid_text,
    is_deleted,
    strip_extended_dn,
    tombstone_from_entry,
    under,
    user_from_entry,
)
from tests.unit.timebound import time_limit

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def case_variants(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper()])


raw_value = (st.binary(max_size=64) | st.integers(-(2**70), 2**70).map(lambda i: str(i).encode())
             | st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass"))
             | st.sampled_from([b"TRUE", b"FALSE", b"20261128024512.0Z", b"9" * 5000, b"\x00", b" 12 ", b"1_0"]))
names = st.sampled_from(sorted({*USER_ATTRIBUTES, *TOMBSTONE_ATTRIBUTES, "isDeleted", "member"})).flatmap(case_variants)
# A server spells each attribute once, in whatever case (so no two keys differ only in case).
raw_attrs = st.lists(st.tuples(names, st.lists(raw_value | st.binary(min_size=16, max_size=16), max_size=3)),
                     max_size=12, unique_by=lambda kv: kv[0].lower()).map(dict)
dns = (st.text(max_size=80) | st.sampled_from([
    "CN=a,OU=People,DC=example,DC=com", "<GUID=1>;<SID=2>;CN=x\\,y,DC=example,DC=com", "CN=a+SN=b,DC=x",
    "CN=\\", "=,=,=", "CN=#04024869,DC=x", "<", "<GUID=x>;", "CN=a\x00b,DC=x", "DC=" + "a" * 10_000]))


@FUZZ
@given(dns, raw_attrs, st.sampled_from([None, True, False]))
@example("CN=x", {"objectGUID": [b"\x00" * 16], "accountExpires": [b"9" * 5000]}, None)
@example("CN=x", {"objectguid": [b"\x01" * 16], "accountExpires": [str(2**63).encode()]}, True)
@example("CN=x", {"objectGUID": [b"\x02" * 16], "whenChanged": [b"\x00\xff"], "userAccountControl": [b"0x2"]}, False)
@example("CN=x", {"objectGUID": [b"\x03" * 15]}, None)
@example("CN=x", {"objectGUID": []}, None)
def test_any_entry_is_a_user_or_none(dn, attrs, group):
    with time_limit():
        user = user_from_entry(dn, attrs, group)
    guid = next((v[0] for k, v in attrs.items() if k.lower() == "objectguid" and v), None)
    if guid is None or len(guid) != 16:
        assert user is None
        return
    assert isinstance(user, AdUser) and user.guid == str(uuid.UUID(bytes_le=guid)) and user.dn == dn
    assert user.in_host_group is group and user.deleted is False
    for text in (user.mail, user.sam_account_name, user.user_principal_name):
        assert text is None or isinstance(text, str)
    assert user.account_expires is None or user.account_expires.tzinfo is not None
    user.active_at(datetime(2026, 11, 28, tzinfo=UTC))      # the fields are usable downstream


@FUZZ
@given(dns, raw_attrs, st.lists(dns, max_size=3), st.booleans())
@example("CN=x", {"objectGUID": [b"\x04" * 16], "lastKnownParent": [b"<GUID=1>;OU=P,DC=x"]}, ["dc=X"], True)
def test_any_tombstone_is_a_deleted_user_or_none(dn, attrs, bases, group):
    with time_limit():
        user = tombstone_from_entry(dn, attrs, bases, group)
        deleted = is_deleted(attrs)
    assert isinstance(deleted, bool)
    assert user is None or (user.deleted and user.in_host_group is (False if group else None))


@st.composite
def good_entries(draw: st.DrawFn) -> tuple[dict[str, list[bytes]], dict[str, object]]:
    guid = uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))
    text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
    sam, mail = draw(text), draw(text)
    uac = draw(st.integers(0, 2**32 - 1))
    expires = draw(st.none() | st.datetimes(min_value=datetime(1601, 1, 2), max_value=datetime(9999, 1, 1),
                                            timezones=st.just(UTC)))
    changed = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1),
                                timezones=st.just(UTC))).replace(microsecond=0)
    usn = draw(st.integers(0, 2**63 - 1))
    attrs = {
        draw(case_variants("objectGUID")): [guid.bytes_le],
        draw(case_variants("sAMAccountName")): [sam.encode()],
        draw(case_variants("mail")): [mail.encode()],
        "userAccountControl": [str(uac).encode()],
        "accountExpires": [str(0 if expires is None else datetime_to_filetime(expires)).encode()],
        "whenChanged": [changed.strftime("%Y%m%d%H%M%S.0Z").encode()],
        "uSNChanged": [str(usn).encode()],
    }
    return attrs, {"guid": str(guid), "sam": sam, "mail": mail, "uac": uac, "expires": expires,
                   "changed": changed, "usn": usn}


@FUZZ
@given(good_entries())
def test_well_formed_entry_reads_back_exactly(entry):
    attrs, want = entry
    user = user_from_entry("CN=u,DC=example,DC=com", attrs, None)
    assert user is not None
    assert user.guid == want["guid"] and user.sam_account_name == want["sam"] and user.mail == want["mail"]
    assert user.user_account_control == want["uac"] and user.usn_changed == want["usn"]
    assert user.when_changed == want["changed"]
    expires = want["expires"]
    if expires is None:
        assert user.account_expires is None
    else:
        assert abs(user.account_expires - expires) < timedelta(microseconds=1)


@FUZZ
@given(st.integers(-(2**200), 2**200))
def test_any_filetime_is_a_date_or_never(value):
    out = filetime_to_datetime(value)
    assert out is None or out.tzinfo is UTC


@FUZZ
@given(st.binary(max_size=40))
def test_any_generalized_time_is_a_date_or_none(raw):
    out = generalized_time(raw)
    assert out is None or out.tzinfo is UTC


@FUZZ
@given(dns, dns)
def test_dn_scope_checks_never_raise(dn, base):
    with time_limit():
        inside = under(strip_extended_dn(dn), base)
    assert isinstance(inside, bool)
    assert under(base, base)          # every DN, well-formed or not, lies under itself


def test_guid_text_is_the_ad_byte_order():
    raw = bytes(range(16))
    assert guid_text(raw) == "03020100-0504-0706-0809-0a0b0c0d0e0f"
