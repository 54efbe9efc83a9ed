"""Incremental reads against Samba: DirSync and uSNChanged report exactly the changed people, in the same states,
and the cursor survives a process restart (a new connector, the cursor round-tripped through JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.ad.connector import AdConnector
from connectors.ad.options import AdOptions
from connectors.ad.records import AdUser
from connectors.base import SourceBatch
from tests.integration.ad.conftest import ad_records, options_for
from tests.integration.samba.harness import SambaDC

pytestmark = pytest.mark.samba

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def read(opts: AdOptions, cursor: dict[str, Any] | None, full: bool, now: datetime = NOW) -> SourceBatch:
    """One read by a fresh connector object (as after a process restart), the cursor through JSON."""
    conn = AdConnector(opts)
    try:
        batch = conn.read(json.loads(json.dumps(cursor)) if cursor is not None else None, full, now)
    finally:
        conn.close()
    assert batch.error is None, batch.error
    assert batch.complete
    return batch


def state(u: AdUser, now: datetime) -> tuple[object, ...]:
    return (u.guid, u.deleted, u.enabled if not u.deleted else None, u.mail, u.expired_at(now), u.in_host_group)


def test_changes_reported_by_dirsync_and_usn(samba_fresh: SambaDC) -> None:
    dc = samba_fresh
    modes = {m: options_for(dc, mode=m) for m in ("dirsync", "usn")}
    cursors = {m: read(o, None, True).cursor for m, o in modes.items()}
    # nothing changed yet: both modes report nothing
    for m, o in modes.items():
        quiet = read(o, cursors[m], False)
        assert not quiet.full and list(quiet.records) == [], m

    live = [u for u in dc.seed.live()]
    plain = [u for u in live if not u.disabled and u.expires is None]
    direct = [u for u in plain if u.group == dc.host_group_dn]
    outside = [u for u in plain if u.group is None]
    deep = [u for u in plain if u.group == dc.deep_group_dn]
    to_disable, to_delete, to_remail, to_expire = direct[0], direct[1], direct[2], outside[0]
    to_add, to_remove, to_remove_deep = outside[1], direct[3], deep[0]
    dc.disable(to_disable.sam)
    dc.delete(to_delete.sam)
    dc.set_mail(to_remail.sam, "renamed.person@syncd.test")
    dc.set_account_expires(to_expire.sam, datetime(2021, 3, 4, tzinfo=UTC))
    dc.add_member(dc.deep_group_dn, to_add.sam)          # eligible through two levels of nesting
    dc.remove_member(dc.host_group_dn, to_remove.sam)
    dc.remove_member(dc.deep_group_dn, to_remove_deep.sam)
    changed = [to_disable, to_delete, to_remail, to_expire, to_add, to_remove, to_remove_deep]
    guids = {u.sam: dc.guid_of(u.sam) for u in changed}

    results = {}
    for m, o in modes.items():
        batch = read(o, cursors[m], False)
        assert not batch.full, (m, batch.notes)
        got = {r.guid: r for r in ad_records(batch)}
        assert set(got) == set(guids.values()), m
        g = {sam: got[guid] for sam, guid in guids.items()}
        assert not g[to_disable.sam].enabled and not g[to_disable.sam].deleted
        assert g[to_delete.sam].deleted
        assert g[to_remail.sam].mail == "renamed.person@syncd.test" and g[to_remail.sam].in_host_group
        assert g[to_expire.sam].expired_at(NOW) and g[to_expire.sam].enabled
        assert g[to_add.sam].in_host_group is True and g[to_add.sam].mail == to_add.mail
        assert g[to_remove.sam].in_host_group is False and g[to_remove.sam].mail == to_remove.mail
        assert g[to_remove_deep.sam].in_host_group is False
        results[m] = {state(r, NOW) for r in ad_records(batch)}
        # the next round from the new cursor: nothing more
        again = read(o, batch.cursor, False)
        assert list(again.records) == [], (m, [r.sam_account_name for r in ad_records(again)])
    assert results["dirsync"] == results["usn"]


def test_expiry_without_a_write_is_reported(samba_fresh: SambaDC) -> None:
    """accountExpires passing writes nothing; the next incremental read still reports the user."""
    dc = samba_fresh
    user = next(u for u in dc.seed.live() if u.expires is None and not u.disabled)
    when = NOW + timedelta(days=3)
    dc.set_account_expires(user.sam, when)
    for mode in ("dirsync", "usn"):
        opts = options_for(dc, mode=mode)
        first = read(opts, None, True)
        mine = next(r for r in ad_records(first) if r.sam_account_name == user.sam)
        assert mine.account_expires == when and not mine.expired_at(NOW)
        before = read(opts, first.cursor, False, NOW + timedelta(days=1))
        assert list(before.records) == []
        after = read(opts, before.cursor, False, NOW + timedelta(days=5))
        assert [(r.sam_account_name, r.expired_at(NOW + timedelta(days=5))) for r in ad_records(after)] == [
            (user.sam, True)
        ]


def test_cursor_from_other_scope_or_mode_forces_a_full_read(samba_dc: SambaDC) -> None:
    dirsync = options_for(samba_dc)
    cursor = read(dirsync, None, True).cursor
    assert cursor is not None
    # mode changed
    batch = read(options_for(samba_dc, mode="usn"), cursor, False)
    assert batch.full and any("full read" in n for n in batch.notes)
    # host group changed
    batch = read(options_for(samba_dc, host_group=samba_dc.nested_group_dn), cursor, False)
    assert batch.full
    # a DirSync cookie the server refuses
    broken = dict(cursor, cookie="AAAA")
    batch = read(dirsync, broken, False)
    assert batch.full and any("DirSync" in n for n in batch.notes), batch.notes
    # a restored DC (other invocationId) in usn mode
    usn = options_for(samba_dc, mode="usn")
    ucur = read(usn, None, True).cursor
    assert ucur is not None
    batch = read(usn, dict(ucur, invocation_id="00000000-0000-0000-0000-000000000000"), False)
    assert batch.full and any("invocationId" in n for n in batch.notes)
    # another DC's high-water mark
    batch = read(usn, dict(ucur, dc_service="CN=NTDS Settings,CN=DC2,CN=Servers,CN=Site,CN=Sites,CN=Configuration"),
                 False)
    assert batch.full and any("another domain controller" in n for n in batch.notes)


def test_cursor_size_is_bounded(samba_dc: SambaDC) -> None:
    cursor = read(options_for(samba_dc), None, True).cursor
    eligible = sum(u.group is not None for u in samba_dc.seed.live())
    size = len(json.dumps(cursor))
    # packed GUIDs: about 21.4 bytes per eligible member, plus a fixed part
    assert size < eligible * 22 + 1000, size
