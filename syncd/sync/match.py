"""Matching directory accounts to people (DESIGN.md 11): by objectGUID once linked, else in each account source's
``match`` order by mail or by sAMAccountName = the person's userid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors.base import AccountFact
from syncd.sync.plan import SourceSpec


@dataclass
class AccountIndex:
    """One account source's facts, indexed for matching."""

    spec: SourceSpec
    facts: Mapping[str, AccountFact]
    by_email: dict[str, AccountFact]
    by_sam: dict[str, AccountFact]
    email_conflicts: set[str]


def account_index(spec: SourceSpec, facts: Mapping[str, AccountFact]) -> AccountIndex:
    by_email: dict[str, AccountFact] = {}
    by_sam: dict[str, AccountFact] = {}
    conflicts: set[str] = set()
    for f in facts.values():
        if f.email and not f.deleted:
            if f.email in by_email:
                conflicts.add(f.email)
            by_email[f.email] = f
        # One sAMAccountName on several accounts (a tombstone beside its successor): the live one, then the
        # lowest GUID, so the match does not depend on the order the facts were read in.
        if f.sam and ((cur := by_sam.get(f.sam)) is None or (cur.deleted, cur.key) > (f.deleted, f.key)):
            by_sam[f.sam] = f
    return AccountIndex(spec, facts, by_email, by_sam, conflicts)


def match_account(
    indexes: Sequence[AccountIndex], email: str, linked: str | None, userids: Sequence[str]
) -> tuple[AccountFact | None, str | None, bool]:
    """The account of a person: (fact, source name, link_lost)."""
    if linked is not None:
        for ix in indexes:
            f = ix.facts.get(linked)
            if f is not None:
                return f, ix.spec.name, False
        if any(ix.facts for ix in indexes):
            return None, indexes[0].spec.name, True
    for ix in indexes:
        for how in ix.spec.match:
            if how == "mail":
                f = ix.by_email.get(email)
            else:
                f = next((ix.by_sam[u] for u in userids if u in ix.by_sam), None)
            if f is not None:
                return f, ix.spec.name, False
    return None, None, False
