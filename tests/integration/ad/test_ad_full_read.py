"""Full reads against the seeded Samba DC: counts exactly as seeded, nested host-group eligibility, tombstones."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.ad.connector import AdConnector
from connectors.ad.records import AdUser
from tests.integration.ad.conftest import ad_records, options_for
from tests.integration.samba import harness
from tests.integration.samba.harness import SambaDC

pytestmark = pytest.mark.samba

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def counts(records: list[AdUser], now: datetime) -> dict[str, int]:
    live = [r for r in records if not r.deleted]
    return {
        "live": len(live),
        "deleted": sum(r.deleted for r in records),
        "enabled": sum(r.enabled for r in live),
        "disabled": sum(not r.enabled for r in live),
        "expired": sum(r.expired_at(now) for r in live),
        "eligible": sum(bool(r.in_host_group) for r in live),
    }


@pytest.mark.parametrize("mode", ["dirsync", "usn"])
def test_full_read_counts_exactly_as_seeded(samba_dc: SambaDC, mode: str) -> None:
    conn = AdConnector(options_for(samba_dc, mode=mode, page_size=150))
    try:
        batch = conn.read(None, True, NOW)
    finally:
        conn.close()
    assert batch.error is None and batch.complete and batch.full
    assert batch.source == "ad" and batch.source_type == "ad"
    records = ad_records(batch)
    assert all(isinstance(r, AdUser) for r in records)
    expected = samba_dc.seed.counts(NOW)
    assert counts(records, NOW) == expected
    if len(samba_dc.seed.users) == 1000:   # the default seed, spelled out so a wrong derivation cannot hide
        assert expected == {"live": 990, "deleted": 10, "enabled": 890, "disabled": 100, "expired": 40,
                            "eligible": 495}
    assert len({r.guid for r in records}) == len(records)
    # json-serialisable cursor for the next incremental read
    assert json.loads(json.dumps(batch.cursor))["mode"] == mode


def test_full_read_fields_and_nested_membership(samba_dc: SambaDC) -> None:
    conn = AdConnector(options_for(samba_dc))
    batch = conn.read(None, True, NOW)
    conn.close()
    by_sam = {r.sam_account_name: r for r in ad_records(batch) if r.sam_account_name}
    seeded = {u.sam: u for u in samba_dc.seed.users}
    for sam, u in seeded.items():
        r = by_sam[sam]
        assert r.deleted == u.deleted, sam
        if u.deleted:
            assert r.mail is None and r.in_host_group is False
            continue
        assert r.mail == u.mail and r.user_principal_name == f"{sam}@syncd.test"
        assert r.enabled == (not u.disabled)
        assert r.account_expires == u.expires
        assert r.in_host_group == (u.group is not None), sam
        assert r.dn == samba_dc.user_dn(sam)
        assert r.usn_changed and r.when_changed is not None
    # through two levels of nesting
    deep = [u for u in samba_dc.seed.live() if u.group == harness.DEEP_GROUP_DN]
    assert deep and all(by_sam[u.sam].in_host_group for u in deep)
    assert len(by_sam["user00001"].guid) == 36 and by_sam["user00001"].guid == samba_dc.guid_of("user00001")


def test_without_host_group_eligibility_is_unknown(samba_dc: SambaDC) -> None:
    conn = AdConnector(options_for(samba_dc, host_group=""))
    batch = conn.read(None, True, NOW)
    conn.close()
    assert batch.complete
    assert {r.in_host_group for r in ad_records(batch)} == {None}


def test_extra_filter_and_base_dn_scope(samba_dc: SambaDC) -> None:
    conn = AdConnector(options_for(samba_dc, filter="(mail=user0001*)"))
    batch = conn.read(None, True, NOW)
    conn.close()
    live = sorted(r.sam_account_name or "" for r in ad_records(batch) if not r.deleted)
    assert live == [f"user{i:05d}" for i in range(10, 20) if i % 100 != 7]
    # the domain root as base: the service account and built-in accounts come too
    conn = AdConnector(options_for(samba_dc, base_dns=[samba_dc.base_dn]))
    batch = conn.read(None, True, NOW)
    conn.close()
    names = {r.sam_account_name for r in ad_records(batch)}
    assert {"svc-syncd", "Administrator", "user00000"} <= names


def test_host_group_value_with_filter_syntax_is_escaped(samba_dc: SambaDC) -> None:
    """``CN=Odd*)(Hosts`` is a real group: escaped, it yields exactly its 3 members; interpreted, it would not."""
    conn = AdConnector(options_for(samba_dc, host_group=samba_dc.odd_group_dn))
    batch = conn.read(None, True, NOW)
    conn.close()
    assert batch.complete, batch.error
    eligible = sorted(r.sam_account_name or "" for r in ad_records(batch) if r.in_host_group)
    assert eligible == list(harness.ODD_GROUP_MEMBERS)
    # a value built to widen the filter matches nothing instead of everything
    hostile = f"CN=x*)(objectClass\\=*,{samba_dc.users_ou}"   # a valid DN (the '=' is DN-escaped)
    conn = AdConnector(options_for(samba_dc, host_group=hostile))
    batch = conn.read(None, True, NOW)
    conn.close()
    assert batch.complete, batch.error
    assert not any(r.in_host_group for r in ad_records(batch))


def test_tombstones_need_no_admin_and_carry_sam_for_matching(samba_dc: SambaDC) -> None:
    conn = AdConnector(options_for(samba_dc))
    batch = conn.read(None, True, NOW)
    conn.close()
    tomb = sorted(r.sam_account_name or "" for r in ad_records(batch) if r.deleted)
    assert tomb == sorted(u.sam for u in samba_dc.seed.users if u.deleted)
    assert not any("tombstones not read" in n for n in batch.notes)


def test_unreadable_deleted_objects_is_said(samba_fresh: SambaDC) -> None:
    """An account without rights on CN=Deleted Objects gets no tombstones and no error: the batch says so."""
    password = "Other!Passw0rd-3"
    dn = samba_fresh.add_account_with_password("svc-other", password)
    conn = AdConnector(options_for(samba_fresh, bind_dn=dn, password=password))
    batch = conn.read(None, True, NOW)
    conn.close()
    assert batch.complete and batch.error is None
    assert not any(r.deleted for r in ad_records(batch))
    assert any(n.startswith("tombstones not read: CN=Deleted Objects is not readable") for n in batch.notes)
    assert len(ad_records(batch)) == samba_fresh.seed.counts(NOW)["live"]


def test_options_never_show_the_password(samba_dc: SambaDC) -> None:
    opts = options_for(samba_dc)
    assert samba_dc.password not in repr(opts) and samba_dc.password not in str(opts.model_dump())


def test_full_read_converts_each_entry_as_it_arrives(samba_dc: SambaDC, monkeypatch: pytest.MonkeyPatch) -> None:
    """syncd keeps a compact fact of each account: each one must be handed over as its entry arrives, or a large
    domain's read would hold every account at once. Tombstones are converted too."""
    arrived = 0
    paged = AdConnector._paged

    def counting(self: AdConnector, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        nonlocal arrived
        for entry in paged(self, *args, **kwargs):  # type: ignore[arg-type]
            arrived += 1
            yield entry

    monkeypatch.setattr(AdConnector, "_paged", counting)
    arrived_at: list[int] = []

    def convert(r: AdUser) -> tuple[str, str, bool]:
        arrived_at.append(arrived)
        return ("kept", r.guid, r.deleted)

    conn = AdConnector(options_for(samba_dc, host_group="", page_size=50))
    try:
        batch = conn.read(None, True, NOW, convert=convert)
    finally:
        conn.close()
    assert batch.complete and len(batch.records) == len(arrived_at) == len(samba_dc.seed.users)
    assert sum(deleted for _, _, deleted in batch.records) == samba_dc.seed.counts(NOW)["deleted"]
    assert arrived_at[0] == 1 and arrived_at == sorted(arrived_at)      # not all at the end
