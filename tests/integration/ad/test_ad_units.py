"""Pure parts of the AD connector (no DC needed): DirSync control encoding, value decoding, cursor packing,
DN and filter validation, option checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from ldap3.protocol.microsoft import DirSyncControlRequestValue, dir_sync_control
from pyasn1.codec.ber import decoder, encoder
from pydantic import ValidationError

from connectors.ad import cursor as cur
from connectors.ad.connector import AdConnector
from connectors.ad.dirsync import (
    ANCESTORS_FIRST_ORDER,
    INCREMENTAL_VALUES,
    OBJECT_SECURITY,
    dirsync_control,
)
from connectors.ad.options import AdOptions, validate_dn, validate_filter
from connectors.ad.session import describe
from connectors.ad.values import (
    datetime_to_filetime,
    filetime_to_datetime,
    generalized_time,
    guid_raw,
    guid_text,
    strip_extended_dn,
    tombstone_from_entry,
    under,
    user_from_entry,
)


def flags_bytes(control: object) -> bytes:
    """The BER encoding of the Flags INTEGER inside a built control."""
    value, _ = decoder.decode(bytes(control["controlValue"]), asn1Spec=DirSyncControlRequestValue())  # type: ignore[index]
    return bytes(encoder.encode(value["Flags"]))


def test_dirsync_flags_encode_in_four_bytes_unlike_ldap3() -> None:
    flags = OBJECT_SECURITY | ANCESTORS_FIRST_ORDER | INCREMENTAL_VALUES
    ours = flags_bytes(dirsync_control(b"", flags))
    assert ours == bytes.fromhex("02 04 80 00 08 01".replace(" ", ""))
    theirs = flags_bytes(dir_sync_control(True, True, True, False, True, 0x7FFFFFFF, None))
    assert len(theirs) == 7   # ldap3 #642: a 5-byte INTEGER on 64-bit Linux
    assert flags_bytes(dirsync_control(None)) == bytes.fromhex("02020801")
    control = dirsync_control(b"abc")
    assert str(control["controlType"]) == "1.2.840.113556.1.4.841" and bool(control["criticality"])


def test_guid_round_trip_is_little_endian() -> None:
    g = "9840bf38-12ab-4c5d-8e9f-0123456789ab"
    raw = guid_raw(g)
    assert raw[:4] == bytes.fromhex("38bf4098") and guid_text(raw) == g
    assert str(uuid.UUID(bytes_le=raw)) == g


def test_filetime_conversions() -> None:
    assert filetime_to_datetime(0) is None and filetime_to_datetime(0x7FFFFFFFFFFFFFFF) is None
    when = datetime(2024, 2, 29, 12, 30, tzinfo=UTC)
    assert filetime_to_datetime(datetime_to_filetime(when)) == when
    assert datetime_to_filetime(datetime(1601, 1, 1, tzinfo=UTC)) == 0
    assert filetime_to_datetime(2**62) is None or filetime_to_datetime(2**62).year > 9000  # type: ignore[union-attr]
    assert generalized_time(b"20261128024512.0Z") == datetime(2026, 11, 28, 2, 45, 12, tzinfo=UTC)


def test_entry_decoding() -> None:
    g = "9840bf38-12ab-4c5d-8e9f-0123456789ab"
    attrs = {"objectGUID": [guid_raw(g)], "sAMAccountName": [b"jdoe"], "mail": [b"j.doe@example.com"],
             "userAccountControl": [b"514"], "accountExpires": [b"9223372036854775807"],
             "uSNChanged": [b"4711"], "whenChanged": [b"20250101000000.0Z"]}
    u = user_from_entry("CN=J,DC=x", attrs, True)
    assert u is not None and u.guid == g and not u.enabled and u.account_expires is None and u.usn_changed == 4711
    assert u.in_host_group is True and u.mail == "j.doe@example.com"
    assert user_from_entry("CN=J,DC=x", {"sAMAccountName": [b"x"]}, None) is None
    tomb = {"objectGUID": [guid_raw(g)], "sAMAccountName": [b"jdoe"], "isDeleted": [b"TRUE"],
            "lastKnownParent": [b"<GUID=1>;OU=People,DC=x"]}
    inside = tombstone_from_entry("CN=J\\0ADEL:..,CN=Deleted Objects,DC=x", tomb, ["ou=people,dc=X"], True)
    outside = tombstone_from_entry("CN=J\\0ADEL:..,CN=Deleted Objects,DC=x", tomb, ["OU=Other,DC=x"], False)
    assert inside is not None and inside.deleted and inside.sam_account_name == "jdoe" and inside.in_host_group is False
    assert outside is not None and outside.sam_account_name is None and outside.in_host_group is None


def test_dn_scope() -> None:
    assert under("CN=a,OU=People,DC=x,DC=y", "ou=people, dc=X,dc=y")
    assert not under("CN=a,OU=PeopleX,DC=x,DC=y", "OU=People,DC=x,DC=y")
    assert not under("DC=y", "DC=x,DC=y")
    assert strip_extended_dn("<GUID=abc>;<SID=S-1>;CN=a,DC=b") == "CN=a,DC=b"


@pytest.mark.parametrize("dn", ["DC=example,DC=com", "CN=svc\\, sync,OU=Service,DC=example,DC=com",
                                "CN=Odd*)(Hosts,DC=x"])
def test_valid_dns(dn: str) -> None:
    assert validate_dn(dn) is None


@pytest.mark.parametrize("dn", ["", "  ", "example.com", "CN=,DC=x", "CN=a,,DC=b", "CN=a=b,DC=c", "CN=a\nDC=b"])
def test_invalid_dns(dn: str) -> None:
    err = validate_dn(dn)
    assert err and "\n" not in err


@pytest.mark.parametrize("flt", ["", "(mail=*)", "(&(department=Sales)(!(title=Intern)))",
                                 "(userAccountControl:1.2.840.113556.1.4.803:=2)", "(cn=a\\2a)"])
def test_valid_filters(flt: str) -> None:
    assert validate_filter(flt) is None


@pytest.mark.parametrize("flt", ["mail=*", "(mail=*", "(mail=*))", "(a=b)(c=d)", "(&(a=b)", "()", "(a=b)\n"])
def test_invalid_filters(flt: str) -> None:
    err = validate_filter(flt)
    assert err and "\n" not in err


def base_opts(**kw: object) -> AdOptions:
    args: dict[str, object] = dict(name="ad", urls=["ldaps://dc1.example.com"], bind_dn="CN=svc,DC=example,DC=com",
                                   password="s3cret!", base_dns=["DC=example,DC=com"])
    args.update(kw)
    return AdOptions(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "where"), [({"urls": ["ldap://dc1"]}, "insecure"), ({"page_size": 5000}, "page_size"),
                                           ({"mode": "poll"}, "mode"), ({"filter": "mail=*"}, "filter"),
                                           ({"host_group": "nonsense"}, "host_group"),
                                           ({"urls": ["https://dc1"]}, "urls")])
def test_option_problems(kw: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        base_opts(**kw)


def test_usable_options() -> None:
    base_opts()
    base_opts(urls=["ldap://dc1"], start_tls=True)
    base_opts(urls=["ldap://dc1"], insecure=True)
    assert "s3cret" not in repr(base_opts())


def test_a_misconfigured_source_never_reaches_the_connector() -> None:
    """The connector takes only validated options: plain LDAP without start_tls or insecure is refused there."""
    with pytest.raises(ValidationError, match="plain ldap:// needs start_tls"):
        AdConnector(base_opts(urls=["ldap://192.0.2.1"]))   # TEST-NET: never contacted


def test_cursor_checks_and_packing() -> None:
    opts = base_opts(host_group="CN=G,DC=example,DC=com")
    guids = {str(uuid.uuid4()) for _ in range(50)}
    packed = cur.pack_guids(guids)
    assert packed is not None and cur.unpack_guids(packed) == guids and len(packed) <= 50 * 22
    good = {"v": 1, "mode": "dirsync", "scope": cur.scope_digest(opts), "cookie": cur.b64(b"c"),
            "expiry_checked": 1, "eligible": packed, "dc": "ldaps://dc1.example.com"}
    assert cur.invalid_reason(good, opts) is None
    assert cur.invalid_reason(dict(good, mode="usn"), opts)
    assert cur.invalid_reason(dict(good, eligible="!!"), opts)
    assert cur.invalid_reason(dict(good, scope="x"), opts)
    assert cur.invalid_reason({}, opts)
    assert cur.invalid_reason(dict(good, eligible=None), opts)   # host group configured, no set stored


def test_error_classification() -> None:
    from ldap3.core import exceptions as lx

    assert describe(lx.LDAPSocketOpenError("socket connection error")).temporary
    assert not describe(lx.LDAPSocketOpenError("socket ssl wrapping error: CERTIFICATE_VERIFY_FAILED")).temporary
    assert not describe(lx.LDAPInvalidCredentialsResult("x")).temporary
    assert describe(lx.LDAPBusyResult("busy")).temporary
