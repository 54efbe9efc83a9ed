"""The reconciler: a pure function from source batches and stored state to a :class:`~syncd.sync.plan.Plan`.

It merges each source's new facts into the stored ones (a complete full read replaces them, an incremental
read updates them, an incomplete read changes nothing), works out every person's desired state under the
rules of DESIGN.md sections 4 and 11, and lists the differences as changes that each carry a human sentence.
Sources are treated by the role of their facts (``connectors.base.Role``): records that make people, and
accounts matched to people. No I/O: the pipeline loads the stored state, and applies or prints the plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors.base import PersonFact, Role, SourceBatch
from connectors.limits import KEY
from connectors.registry import fact_of, records_type
from syncd.emails import folded_beyond_case, lookalike_groups
from syncd.sync.facts import source_facts
from syncd.sync.match import AccountIndex, account_index, match_account
from syncd.sync.plan import Change, PersonRow, Plan, SourceFacts, SourceOutcome, SourceSpec
from syncd.visible import visible


def source_specs(config: Any) -> list[SourceSpec]:
    """The configured sources in configured order, each with its records' type, fact class and match order."""
    return [SourceSpec(s.name, records_type(s), fact_of(s), s.match_order()) for s in config.sources.all()]


def merge_source(
    spec: SourceSpec, batch: SourceBatch | SourceFacts | None, stored: Mapping[str, Any]
) -> tuple[dict[str, Any], SourceOutcome]:
    """The source's facts after this batch, and what changed. An incomplete or missing batch changes nothing."""
    if batch is None:
        return dict(stored), SourceOutcome(spec.name, spec.type, True, False, 0, None, None, [], used=False)
    read = batch if isinstance(batch, SourceFacts) else source_facts(spec, batch)
    outcome = SourceOutcome(spec.name, spec.type, read.complete, read.full, read.records, read.error,
                            read.cursor if read.complete else None, list(read.notes), seconds=read.seconds)
    if not read.complete:
        return dict(stored), outcome
    facts, removed = read.facts, read.removed
    outcome.skipped_no_email = read.skipped_no_email
    outcome.invalid = read.invalid
    outcome.used = True
    if read.full:
        merged: dict[str, Any] = {f.key: f for f in facts}
        for bad in read.invalid:     # a record skipped as invalid is not absent: nobody loses anything by it
            if bad.key in stored:
                merged[bad.key] = stored[bad.key]
        outcome.deletes = [k for k in stored if k not in merged]
    else:
        merged = dict(stored)
        for f in facts:
            merged[f.key] = f
        for k in removed:
            if merged.pop(k, None) is not None:
                outcome.deletes.append(k)
    for f in facts:
        old = stored.get(f.key)
        if old is None or old.digest != f.digest:
            outcome.upserts.append(f)
    return merged, outcome


# The invalid records of a source named one by one in a run's warnings; the rest are counted in one more line.
NAMED_INVALID = 20


def invalid_warnings(outcome: SourceOutcome) -> list[str]:
    """One line per invalid record of a source (up to ``NAMED_INVALID``), naming the source and the key."""
    lines = [f"source {outcome.name}: record {_shown_key(bad.key)} skipped: {bad.reason}"
             for bad in outcome.invalid[:NAMED_INVALID]]
    if len(outcome.invalid) > NAMED_INVALID:
        lines.append(f"source {outcome.name}: {len(outcome.invalid) - NAMED_INVALID} more invalid records skipped")
    return lines


def _shown_key(key: str) -> str:
    """The key as text safe to show and to store in the run's summary, cut to the longest valid key: controls as
    ``visible`` writes them, lone surrogates (which no encoder writes) as ``\\udXXX``."""
    shown = visible(key[:KEY]).encode("utf-8", "backslashreplace").decode("utf-8")
    return f'"{shown}"' + ("..." if len(key) > KEY else "")


def plan(
    specs: Sequence[SourceSpec],
    batches: Mapping[str, SourceBatch | SourceFacts],
    stored_people: Mapping[str, PersonRow],
    stored_facts: Mapping[str, Mapping[str, Any]],
    now: datetime,
    require_cucm: bool = True,
    stored_cursors: Mapping[str, Any] | None = None,
    scope: Collection[str] | None = None,
) -> Plan:
    """Work out every person's desired state and the changes from the stored state.

    ``specs`` lists every configured source (config order); ``batches`` holds this run's reads by source name
    (a source not read this run keeps its stored facts); ``stored_facts`` the facts kept from earlier runs;
    ``stored_cursors`` the cursors stored now (a batch cursor equal to it is no pending change). With ``scope``
    (an incremental run), only those e-mail keys are planned: the stored people and facts given are those that
    bear on them, and ``ad_only`` and the look-alike warnings then speak of the scope alone.
    """
    merged, outcomes = _merge_all(specs, batches, stored_facts, stored_cursors)
    people_lists, conflicts, details = _people_lists(specs, merged)
    indexes = [account_index(s, merged[s.name]) for s in specs if s.role is Role.ACCOUNTS]
    for ix in indexes:
        for email in sorted(ix.email_conflicts):
            conflicts.add(email)
            details.append(f"{email}: several accounts in {ix.spec.name} share it")
    people_sources = [name for name, _ in people_lists]

    changes: list[Change] = []
    matched_guids: set[str] = set()
    emails = set(stored_people)
    for _, mailed in people_lists:
        emails.update([_email_of(f) for f in mailed])
    if not require_cucm:
        for ix in indexes:
            emails |= set(ix.by_email)
    if scope is not None:
        emails &= set(scope)
    warnings = [w for o in outcomes for w in invalid_warnings(o)] + [
        "look-alike addresses kept as different people: " + ", ".join(g)
        for g in lookalike_groups(emails)
    ] + _folded_warnings(people_lists, indexes, emails)
    ordered = sorted(emails)
    del emails                       # 400,000 keys: the sorted list alone is kept
    at = [0] * len(people_lists)       # each source's position in its list
    for email in ordered:
        found: list[tuple[str, PersonFact]] = []
        for i, (name, mailed) in enumerate(people_lists):
            j, n = at[i], len(mailed)
            while j < n and mailed[j].email < email:     # type: ignore[operator]  # out of scope
                j += 1
            while j < n and mailed[j].email == email:
                found.append((name, mailed[j]))
                j += 1
            at[i] = j
        if email in conflicts:
            continue
        before = stored_people.get(email)
        after, source, guid = _desired(email, before, found, indexes, now, require_cucm, people_sources)
        if guid is not None:
            matched_guids.add(guid)
        if after is None:
            continue
        if before is None:
            kind = "created"
        elif before.active != after.active:
            kind = "activated" if after.active else "deactivated"
        elif before != after:
            kind = "updated"
        else:
            continue
        changes.append(Change(kind, email, before, after, source))

    ad_only = sum(
        1 for ix in indexes for f in ix.facts.values() if not f.deleted and f.key not in matched_guids
    ) if require_cucm else 0
    return Plan(changes, outcomes, sorted(conflicts), details, ad_only, warnings)


def _folded_warnings(
    people_lists: Sequence[tuple[str, Sequence[PersonFact]]], indexes: Sequence[AccountIndex], emails: Collection[str],
) -> list[str]:
    """A warning for each address in the plan that case folding changes beyond lower case: records written either
    way are one person (``syncd.emails.folded_beyond_case``), which the admin should know of."""
    facts = itertools.chain((f for _, mailed in people_lists for f in mailed),
                            (f for ix in indexes for f in ix.facts.values()))
    folded = folded_beyond_case(f.raw_email for f in facts
                                if f.raw_email and not f.raw_email.isascii() and f.email in emails)
    lines = [f"address {visible(raw)} is the person {visible(key)}: case folding goes beyond lower case, so an "
             f"address written either way is this one person" for raw, key in folded[:NAMED_INVALID]]
    if len(folded) > NAMED_INVALID:
        lines.append(f"{len(folded) - NAMED_INVALID} more addresses folded beyond lower case")
    return lines


def _merge_all(
    specs: Sequence[SourceSpec], batches: Mapping[str, SourceBatch | SourceFacts],
    stored_facts: Mapping[str, Mapping[str, Any]], stored_cursors: Mapping[str, Any] | None,
) -> tuple[dict[str, dict[str, Any]], list[SourceOutcome]]:
    """Every source's facts after this run's batches, and the outcomes of the sources read."""
    merged: dict[str, dict[str, Any]] = {}
    outcomes: list[SourceOutcome] = []
    for spec in specs:
        facts, outcome = merge_source(spec, batches.get(spec.name), stored_facts.get(spec.name, {}))
        merged[spec.name] = facts
        if stored_cursors is not None and outcome.cursor == stored_cursors.get(spec.name):
            outcome.cursor = None        # unchanged: nothing to store
        if spec.name in batches:
            outcomes.append(outcome)
    return merged, outcomes


def _people_lists(
    specs: Sequence[SourceSpec], merged: dict[str, dict[str, Any]]
) -> tuple[list[tuple[str, list[PersonFact]]], set[str], list[str]]:
    """Each people source's facts in e-mail order (taken out of ``merged``), walked by :func:`plan` in step with
    the people: a sorted list of references costs a fraction of a dict by e-mail, which matters at the peak of a
    large full sync. Several facts with one e-mail in one source are a conflict."""
    people_lists: list[tuple[str, list[PersonFact]]] = []
    conflicts: set[str] = set()
    details: list[str] = []
    for spec in specs:
        if spec.role is not Role.PEOPLE:
            continue
        mailed = [f for f in merged.pop(spec.name).values() if f.email is not None]
        mailed.sort(key=_email_of)
        people_lists.append((spec.name, mailed))
        for email, run in _shared_emails(mailed):
            conflicts.add(email)
            users = sorted(f.userid for f in run)
            details.append(f"{email}: {len(users)} users in {spec.name} share it ({', '.join(users)})")
    return people_lists, conflicts, details


def _email_of(f: PersonFact) -> str:
    return f.email or ""


def _shared_emails(facts: Sequence[PersonFact]) -> Iterator[tuple[str, Sequence[PersonFact]]]:
    """(e-mail, its facts) for each e-mail that several of ``facts`` (sorted by e-mail) share."""
    i, n = 0, len(facts)
    while i < n:
        j = i + 1
        while j < n and facts[j].email == facts[i].email:
            j += 1
        if j - i > 1:
            yield facts[i].email or "", facts[i:j]
        i = j


def _desired(
    email: str,
    before: PersonRow | None,
    persons: Sequence[tuple[str, PersonFact]],
    indexes: Sequence[AccountIndex],
    now: datetime,
    require_cucm: bool,
    people_sources: Sequence[str],
) -> tuple[PersonRow | None, str | None, str | None]:
    """(desired row or None when the person is not to exist, the source behind the state, matched account key).
    ``persons`` holds the person's facts in the sources that make people (CUCM users), ``indexes`` the accounts."""
    account, account_source, link_lost = (
        match_account(indexes, email, before.ad_guid if before else None, [f.userid.casefold() for _, f in persons])
        if indexes else (None, None, False))
    in_cucm = bool(persons)
    if not in_cucm and before is None and (require_cucm or account is None):
        return None, None, None
    reason: str | None = None
    source: str | None = None
    deleted = False
    # Plain loops below, not generator expressions: this runs once per person, 400,000 times on a full sync.
    remote = account is not None or link_lost
    name: str | None = None
    any_active = False
    for _, f in persons:
        any_active = any_active or f.active
        remote = remote or bool(f.ldap_synced)
        name = name or f.name
    if in_cucm:
        if not any_active:
            source = persons[0][0]
            reason = persons[0][1].inactive_reason(source)
    elif require_cucm:
        reason, deleted = "removed from CUCM", True
        source = people_sources[0] if len(people_sources) == 1 else None
    if reason is None and link_lost:
        reason, source, deleted = "linked AD account no longer returned by AD (deleted)", account_source, True
    if reason is None and account is not None:
        account_reason = account.inactive_reason(now)
        if account_reason is not None:
            reason, source, deleted = account_reason, account_source, account.deleted
    if name is None and before is not None:
        name = before.display_name
    after = PersonRow(email, reason is None, deleted, "remote" if remote else "local", in_cucm,
                      account.key if account is not None else (before.ad_guid if before and link_lost else None),
                      name, reason)
    if before is not None and before.ad_guid and account is None and not link_lost:
        # No AD source has facts (none configured or never read): keep the link.
        after = replace(after, ad_guid=before.ad_guid)
    return after, source, account.key if account is not None else None
