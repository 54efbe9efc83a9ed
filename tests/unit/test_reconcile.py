"""The reconciler's rules (DESIGN.md sections 4 and 11) and the safety gate (section 8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.ad.fact import AdFact
from connectors.ad.records import AdUser
from connectors.base import SourceBatch
from connectors.cucm.fact import CucmFact
from connectors.cucm.records import CucmUser
from connectors.emails import email_key
from syncd.emails import folded_beyond_case, lookalike_groups
from syncd.sync import safety
from syncd.sync.plan import PersonRow, SourceSpec
from syncd.sync.reconcile import plan

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
CUCM = SourceSpec("cucm", "cucm", CucmFact)
AD = SourceSpec("ad", "ad", AdFact)


def cu(n: int, mail: str | None = "", status: int = 1, ldap: bool | None = False, uuid: str | None = None,
       removed: bool = False) -> CucmUser:
    mail = f"user{n}@example.com" if mail == "" else mail
    return CucmUser(uuid or f"00000000-0000-0000-0000-{n:012d}", f"user{n}", mail, "First", f"Last{n}", status,
                    ldap, removed)


def ad(n: int, mail: str | None = "", uac: int = 512, expires: datetime | None = None, deleted: bool = False,
       group: bool | None = None, sam: str | None = None) -> AdUser:
    mail = f"user{n}@example.com" if mail == "" else mail
    return AdUser(f"aaaaaaaa-0000-0000-0000-{n:012d}", sam or f"user{n}", None, mail, uac, expires, deleted, group)


def batch(name: str, records, complete: bool = True, full: bool = True, kind: str = "cucm") -> SourceBatch:
    return SourceBatch(name, kind, list(records), complete=complete, full=full, cursor={"n": 1})


def stored_from(p) -> dict[str, PersonRow]:
    return {c.email: c.after for c in p.changes}


def facts_from(p, stored=None) -> dict[str, dict]:
    out = {k: dict(v) for k, v in (stored or {}).items()}
    for s in p.sources:
        d = out.setdefault(s.name, {})
        for k in s.deletes:
            d.pop(k, None)
        for f in s.upserts:
            d[f.key] = f
    return out


def test_email_key_is_nfc_trimmed_casefolded():
    assert email_key("  Alice@Example.COM ") == "alice@example.com"
    assert email_key("Stra\u00dfe@x.de") == "strasse@x.de"
    assert email_key("e\u0301@x.org") == email_key("\u00e9@x.org")
    assert email_key("") is None and email_key(None) is None and email_key("no-at-sign") is None
    assert email_key("a" * 10_000 + "@x.org") is None


def test_lookalikes_are_warned_not_merged():
    latin, cyrillic = "anna@example.com", "\u0430nna@example.com"
    assert email_key(latin) != email_key(cyrillic)
    assert lookalike_groups([latin, cyrillic, "bob@example.com"]) == [sorted([latin, cyrillic])]
    p = plan([CUCM], {"cucm": batch("cucm", [cu(1, latin), cu(2, cyrillic)])}, {}, {}, NOW)
    assert p.count("created") == 2
    assert any("look-alike" in w for w in p.warnings)


def test_first_sync_creates_every_cucm_user_with_email_active_or_not():
    recs = [cu(1), cu(2, status=2), cu(3, mail=None), cu(4, ldap=True)]
    p = plan([CUCM], {"cucm": batch("cucm", recs)}, {}, {}, NOW)
    rows = stored_from(p)
    assert sorted(rows) == ["user1@example.com", "user2@example.com", "user4@example.com"]
    assert rows["user1@example.com"].active and not rows["user2@example.com"].active
    assert rows["user2@example.com"].inactive_reason.startswith("CUCM status 2")
    assert rows["user1@example.com"].management == "local"
    assert rows["user4@example.com"].management == "remote"
    assert p.changes_summary()["skipped_no_email"] == 1
    assert all(c.sentence.startswith("create ") for c in p.changes)


def test_duplicate_emails_in_one_source_are_conflicts_left_unchanged():
    stored = {"dup@example.com": PersonRow("dup@example.com", True)}
    recs = [cu(1, "dup@example.com", status=2), cu(2, "DUP@example.com ")]
    p = plan([CUCM], {"cucm": batch("cucm", recs)}, stored, {}, NOW)
    assert p.conflicts == ["dup@example.com"]
    assert p.changes == []
    assert "user1" in p.conflict_details[0] and "user2" in p.conflict_details[0]
    assert p.changes_summary()["conflicts"] == 1


def test_one_email_in_two_clusters_is_one_person():
    c2 = SourceSpec("cucm-emea", "cucm", CucmFact)
    batches = {"cucm": batch("cucm", [cu(1, status=2)]),
               "cucm-emea": batch("cucm-emea", [cu(1, uuid="11111111-0000-0000-0000-000000000001")])}
    p = plan([CUCM, c2], batches, {}, {}, NOW)
    assert p.conflicts == [] and len(p.changes) == 1 and p.changes[0].after.active


def test_clusters_are_walked_in_step_by_email():
    """Each cluster's facts are walked in e-mail order beside the people: a person's facts from every cluster
    meet, the source named is the cluster that has the person, and a conflict in one cluster skips only that
    e-mail."""
    c2 = SourceSpec("cucm-emea", "cucm", CucmFact)
    emea = [cu(2, status=2, uuid="e0000000-0000-0000-0000-000000000002"),
            cu(3, uuid="e0000000-0000-0000-0000-000000000003"),
            cu(4, "user3@example.com", uuid="e0000000-0000-0000-0000-000000000004"),
            cu(5, uuid="e0000000-0000-0000-0000-000000000005", ldap=True)]
    batches = {"cucm": batch("cucm", [cu(5, status=2), cu(1), cu(2, status=2)]), "cucm-emea": batch("cucm-emea", emea)}
    p = plan([CUCM, c2], batches, {"user0@example.com": PersonRow("user0@example.com", True)}, {}, NOW)
    by = {c.email: c for c in p.changes}
    assert sorted(by) == ["user0@example.com", "user1@example.com", "user2@example.com", "user5@example.com"]
    assert p.conflicts == ["user3@example.com"] and "cucm-emea share it (user3, user4)" in p.conflict_details[0]
    assert by["user0@example.com"].after.inactive_reason == "removed from CUCM"
    assert by["user1@example.com"].source is None and by["user1@example.com"].after.active
    assert by["user2@example.com"].source == "cucm" and "in cucm" in by["user2@example.com"].after.inactive_reason
    assert by["user5@example.com"].after.active and by["user5@example.com"].after.management == "remote"


def test_a_scoped_plan_steps_over_facts_outside_its_scope():
    stored = {f"user{n}@example.com": PersonRow(f"user{n}@example.com", True, display_name=f"First Last{n}")
              for n in (1, 2, 3)}
    p = plan([CUCM], {"cucm": batch("cucm", [cu(1), cu(2, status=2), cu(3)], full=False)}, stored, {}, NOW,
             scope={"user2@example.com", "user3@example.com"})
    assert [(c.kind, c.email, c.after.inactive_reason) for c in p.changes] == [
        ("deactivated", "user2@example.com", "CUCM status 2 (Inactive LDAP Synchronized User) in cucm")]


def test_removed_from_complete_cucm_read_is_deactivated_and_second_run_is_clean():
    p1 = plan([CUCM], {"cucm": batch("cucm", [cu(1), cu(2)])}, {}, {}, NOW)
    people, facts = stored_from(p1), facts_from(p1)
    p2 = plan([CUCM], {"cucm": batch("cucm", [cu(1)])}, people, facts, NOW)
    assert [(c.kind, c.email) for c in p2.changes] == [("deactivated", "user2@example.com")]
    assert p2.changes[0].after.inactive_reason == "removed from CUCM" and p2.changes[0].source == "cucm"
    people2 = {**people, **stored_from(p2)}
    p3 = plan([CUCM], {"cucm": batch("cucm", [cu(1)])}, people2, facts_from(p2, facts), NOW)
    assert p3.changes == [] and not p3.sources[0].upserts and not p3.sources[0].deletes


def test_incomplete_source_changes_nothing_and_keeps_cursor():
    p1 = plan([CUCM], {"cucm": batch("cucm", [cu(1), cu(2)])}, {}, {}, NOW)
    people, facts = stored_from(p1), facts_from(p1)
    failed = SourceBatch("cucm", "cucm", [cu(1)], complete=False, full=True, cursor={"x": 1}, error="timeout")
    p2 = plan([CUCM], {"cucm": failed}, people, facts, NOW)
    assert p2.changes == [] and p2.sources[0].cursor is None and p2.sources[0].error == "timeout"
    assert not p2.pending


def test_incremental_read_updates_only_changed_records():
    p1 = plan([CUCM], {"cucm": batch("cucm", [cu(1), cu(2), cu(3)])}, {}, {}, NOW)
    people, facts = stored_from(p1), facts_from(p1)
    inc = batch("cucm", [cu(1, status=2), cu(3, removed=True), cu(4)], full=False)
    p2 = plan([CUCM], {"cucm": inc}, people, facts, NOW)
    kinds = {c.email: c.kind for c in p2.changes}
    assert kinds == {"user1@example.com": "deactivated", "user3@example.com": "deactivated",
                     "user4@example.com": "created"}


def test_effective_state_needs_ad_enabled_not_expired_not_deleted_and_in_group():
    recs = [cu(i) for i in range(1, 7)]
    ads = [ad(1), ad(2, uac=514), ad(3, expires=NOW - timedelta(days=1)), ad(4, deleted=True, mail=None),
           ad(5, group=False), ad(6, expires=NOW + timedelta(days=1))]
    p = plan([CUCM, AD], {"cucm": batch("cucm", recs), "ad": batch("ad", ads, kind="ad")}, {}, {}, NOW)
    rows = stored_from(p)
    state = {e.split("@")[0]: (r.active, r.inactive_reason) for e, r in rows.items()}
    assert state["user1"] == (True, None)
    assert state["user2"] == (False, "disabled in AD")
    assert not state["user3"][0] and state["user3"][1].startswith("account expired in AD")
    assert state["user4"] == (False, "deleted in AD")    # tombstone matched by sAMAccountName
    assert state["user5"] == (False, "not a member of the host group in AD")
    assert state["user6"] == (True, None)
    assert all(r.management == "remote" for r in rows.values())
    # Expiry writes nothing to AD: a later run with no AD change deactivates user6 once it has expired.
    people, facts = rows, facts_from(p)
    later = NOW + timedelta(days=2)
    p2 = plan([CUCM, AD], {}, people, facts, later)
    assert [(c.kind, c.email, c.source) for c in p2.changes] == [("deactivated", "user6@example.com", "ad")]


def test_ad_match_by_userid_when_mail_differs_and_link_by_guid_afterwards():
    p = plan([CUCM, AD], {"cucm": batch("cucm", [cu(1)]),
                          "ad": batch("ad", [ad(1, mail="other@example.com")], kind="ad")}, {}, {}, NOW)
    row = stored_from(p)["user1@example.com"]
    assert row.ad_guid == "aaaaaaaa-0000-0000-0000-000000000001" and row.management == "remote"
    # Later the AD account is renamed and loses its mail: still matched by the stored GUID link.
    people, facts = stored_from(p), facts_from(p)
    p2 = plan([CUCM, AD], {"ad": batch("ad", [ad(1, mail=None, sam="renamed", uac=514)], kind="ad")},
              people, facts, NOW)
    assert [(c.kind, c.after.inactive_reason) for c in p2.changes] == [("deactivated", "disabled in AD")]
    # A complete AD read that no longer returns the GUID: deleted in AD.
    p3 = plan([CUCM, AD], {"ad": batch("ad", [ad(9)], kind="ad")}, people, facts, NOW)
    assert p3.changes[0].kind == "deactivated" and "no longer returned" in p3.changes[0].after.inactive_reason


def test_ad_only_people_are_counted_not_created_unless_configured():
    batches = {"cucm": batch("cucm", [cu(1)]), "ad": batch("ad", [ad(1), ad(2), ad(3)], kind="ad")}
    p = plan([CUCM, AD], batches, {}, {}, NOW)
    assert p.ad_only == 2 and len(p.changes) == 1
    p2 = plan([CUCM, AD], batches, {}, {}, NOW, require_cucm=False)
    assert len(p2.changes) == 3
    assert stored_from(p2)["user2@example.com"].management == "remote"


def test_management_change_is_an_update():
    p1 = plan([CUCM], {"cucm": batch("cucm", [cu(1)])}, {}, {}, NOW)
    p2 = plan([CUCM], {"cucm": batch("cucm", [cu(1, ldap=True)])}, stored_from(p1), facts_from(p1), NOW)
    assert [c.kind for c in p2.changes] == ["updated"] and p2.changes[0].management_changed
    assert "management 'local' -> 'remote'" in p2.changes[0].sentence


def test_facts_round_trip_through_their_stored_form():
    f = CucmFact.from_record(cu(1, ldap=True))
    assert CucmFact.from_data(f.key, f.to_data(), f.email) == f
    g = AdFact.from_record(ad(1, expires=NOW))
    assert AdFact.from_data(g.key, g.to_data(), g.email) == g


def _people(n_active: int) -> dict[str, PersonRow]:
    return {f"user{i}@example.com": PersonRow(f"user{i}@example.com", True) for i in range(n_active)}


def test_safety_gate_thresholds():
    people = _people(100)
    keep = [cu(i) for i in range(100)]
    p = plan([CUCM], {"cucm": batch("cucm", keep[:5])}, people, {}, NOW)
    r = safety.check(p, 100, 500, 0.10)
    assert r is not None and "95 of 100" in r.message and "--allow-mass-deactivation" in r.message
    assert safety.check(p, 100, 500, 0.96) is None
    assert "exceed safety.max_deactivations = 50" in safety.check(p, 100, 50, 0.99).message
    # The ratio rule applies only above 10 deactivations.
    p2 = plan([CUCM], {"cucm": batch("cucm", keep[:90])}, people, {}, NOW)
    assert len(p2.deactivations) == 10 and safety.check(p2, 100, 500, 0.05) is None


def test_safety_gate_refuses_a_full_read_with_zero_users():
    p = plan([CUCM], {"cucm": batch("cucm", [])}, _people(3), {}, NOW)
    r = safety.check(p, 3, 500, 1.0)
    assert r is not None and "returned 0 users" in r.message


def test_folding_beyond_lower_case_merges_with_a_warning():
    """DESIGN 11 folds case fully (str.casefold), so 'STRAßE@' and 'strasse@' are one person and 'o\\ufb00ice@'
    is 'office@': the merge stands, and each such address is named in a warning (issue 14)."""
    assert folded_beyond_case(["STRAßE@example.com", "o\ufb00ice@example.com", "Ünal@example.com", None,
                               "plain@example.com"]) == [
        ("o\ufb00ice@example.com", "office@example.com"), ("STRAßE@example.com", "strasse@example.com")]

    p = plan([CUCM, AD], {"cucm": batch("cucm", [cu(1, "STRAßE@example.com")]),
                          "ad": batch("ad", [ad(1, "strasse@example.com")], kind="ad")}, {}, {}, NOW)
    assert [c.email for c in p.changes] == ["strasse@example.com"]
    assert p.changes[0].after.ad_guid == "aaaaaaaa-0000-0000-0000-000000000001"
    assert any("STRAßE@example.com is the person strasse@example.com" in w for w in p.warnings), p.warnings
    clean = plan([CUCM], {"cucm": batch("cucm", [cu(1, "Ünal@example.com")])}, {}, {}, NOW)
    assert not any("folding" in w for w in clean.warnings)
