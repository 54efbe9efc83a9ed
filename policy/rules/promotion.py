"""The Permanent pool: binding a Permanent to a person, free slots, and promoting Grace holders (R7, R8)."""

from __future__ import annotations

from collections.abc import Sequence

from policy.decisions import AssignLicense
from policy.model import HeldLicense, LicenseKind, PersonState
from policy.rules.context import Context

FREED = "a Permanent license was freed (grace_promotion = any)"


def permanent_for(c: Context, person: PersonState) -> HeldLicense:
    """A Permanent license bound to ``person`` now, marked with the person's management."""
    return HeldLicense(LicenseKind.PERMANENT, person.management, c.now, None)


def free_slots_after(c: Context, freed: int, added: int = 0) -> int:
    """Free Permanent licenses once this decision's ``freed`` releases and ``added`` purchases are counted.

    The ledger in the context does not see the decision's own actions yet, so the rule passes them in."""
    return c.ledger.installed_permanent + added - (c.ledger.permanent_in_use - freed)


def promote(c: Context, slots: int, rule: str | None, why: str, exclude: Sequence[str] = ()) -> list[str]:
    """Promote up to ``slots`` Grace holders, oldest grace first, to Permanent.  Returns the keys promoted.

    ``exclude``: people not to promote (the person whose release freed the slot)."""
    if slots <= 0:
        return []
    keys = [k for k in c.ledger.grace_holders_oldest_first(c.now) if k not in exclude][:slots]
    for key in keys:
        c.actions.append(
            AssignLicense(
                person=key,
                license=permanent_for(c, c.ledger.people[key]),
                sentence=f"promoted from Grace to a Permanent Host license (oldest Grace holder): {why}",
                rule=rule,
            )
        )
    return keys
