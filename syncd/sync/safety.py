"""The safety gate (DESIGN.md sections 8 and 11): refuse plans that would deactivate too many people."""

from __future__ import annotations

from dataclasses import dataclass

from syncd.sync.plan import Plan

# The ratio rule only applies when more than this many people would be deactivated.
RATIO_FLOOR = 10


@dataclass(frozen=True, slots=True)
class Refusal:
    reasons: tuple[str, ...]

    @property
    def message(self) -> str:
        return "safety gate refused the plan: " + "; ".join(self.reasons) + \
            " (rerun with --allow-mass-deactivation to apply it once)"


def check(plan: Plan, active_people: int, max_deactivations: int, max_ratio: float, pushes: int = 0,
          max_pushes: int | None = None) -> Refusal | None:
    """Return a refusal when the plan deactivates too many people, writes CWMS more than ``max_pushes`` times
    (``pushes``: the CWMS writes it would send), or a full read returned no users."""
    reasons: list[str] = []
    if max_pushes is not None and pushes > max_pushes:
        reasons.append(f"{pushes} CWMS writes exceed cwms.max_pushes = {max_pushes}")
    for s in plan.sources:
        if s.complete and s.full and s.records == 0:
            reasons.append(f"source {s.name} returned 0 users on a full read")
    n = len(plan.deactivations)
    if n > max_deactivations:
        reasons.append(f"{n} deactivations exceed safety.max_deactivations = {max_deactivations}")
    if n > RATIO_FLOOR and active_people > 0 and n / active_people > max_ratio:
        reasons.append(
            f"{n} of {active_people} active people ({n / active_people:.0%}) exceed "
            f"safety.max_deactivation_ratio = {max_ratio:g}"
        )
    return Refusal(tuple(reasons)) if reasons else None
