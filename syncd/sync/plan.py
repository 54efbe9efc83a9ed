"""The plan's types: people's rows, changes with their sentences, the sources a plan covers and what each
contributed. The reconciler (``reconcile.py``) makes a :class:`Plan`; the pipeline applies or prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import Invalid, Role
from connectors.options import MATCH_ORDER


@dataclass(frozen=True, slots=True)
class PersonRow:
    """A person's stored (or desired) directory state."""

    email: str
    active: bool
    deleted: bool = False
    management: str = "local"
    in_cucm: bool = True
    ad_guid: str | None = None
    display_name: str | None = None
    inactive_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    kind: str                       # created | activated | deactivated | updated
    email: str
    before: PersonRow | None
    after: PersonRow
    source: str | None = None       # the source whose facts caused it

    @property
    def sentence(self) -> str:
        """What the change does, for an administrator (made when asked: a first sync has 400,000 of them)."""
        return sentence(self.kind, self.before, self.after, self.source)

    @property
    def management_changed(self) -> bool:
        return self.before is not None and self.before.management != self.after.management


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A configured source as the reconciler sees it: its records' type and fact class (whose role decides how
    the plan treats it) and, for account sources, the order of matching."""

    name: str
    type: str                       # its records' source type (a file source: the type it holds)
    fact: Any                       # the fact class of its records (``connectors/<type>/fact.py``)
    match: tuple[str, ...] = MATCH_ORDER

    @property
    def role(self) -> Role:
        role: Role = self.fact.role
        return role


@dataclass(slots=True)
class SourceOutcome:
    """What one source contributed to the plan, for the summary and the apply."""

    name: str
    type: str
    complete: bool
    full: bool
    records: int
    error: str | None
    cursor: dict[str, Any] | None
    notes: list[str]
    skipped_no_email: int = 0
    invalid: list[Invalid] = field(default_factory=list)     # records the store cannot hold, skipped
    seconds: float = 0.0             # how long the read took
    upserts: list[Any] = field(default_factory=list)     # facts new or changed
    deletes: list[str] = field(default_factory=list)      # keys no longer present
    used: bool = False               # the batch changed the source's facts (complete)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "complete": self.complete, "full": self.full,
                "records": self.records, "error": self.error, "skipped_no_email": self.skipped_no_email,
                "invalid": len(self.invalid), "notes": list(self.notes), "seconds": round(self.seconds, 3)}


@dataclass(slots=True)
class Plan:
    changes: list[Change]
    sources: list[SourceOutcome]
    conflicts: list[str]             # e-mail keys in conflict (left unchanged)
    conflict_details: list[str]
    ad_only: int
    warnings: list[str]

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def deactivations(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "deactivated"]

    @property
    def skipped_no_email(self) -> int:
        return sum(s.skipped_no_email for s in self.sources)

    @property
    def pending(self) -> bool:
        """Whether the directory drifted from the store: changes to people or source facts. A standing conflict
        or a cursor that merely moved is no pending change (`--check` stays clean)."""
        return bool(self.changes) or any(s.upserts or s.deletes for s in self.sources)

    @property
    def cursors_moved(self) -> bool:
        return any(s.complete and s.cursor is not None for s in self.sources)

    def changes_summary(self) -> dict[str, int]:
        return {"created": self.count("created"), "activated": self.count("activated"),
                "deactivated": self.count("deactivated"), "updated": self.count("updated"),
                "skipped_no_email": self.skipped_no_email, "conflicts": len(self.conflicts)}


@dataclass(slots=True)
class SourceFacts:
    """A source batch with its records turned into facts, so that the records can be dropped at once."""

    name: str
    complete: bool
    full: bool
    records: int
    error: str | None
    cursor: dict[str, Any] | None
    notes: list[str]
    facts: list[Any]
    removed: list[str]              # keys of records an incremental read reports deleted
    skipped_no_email: int
    invalid: list[Invalid] = field(default_factory=list)     # records the store cannot hold, skipped
    seconds: float = 0.0            # how long the read took


def sentence(kind: str, before: PersonRow | None, after: PersonRow, source: str | None) -> str:
    via = f" (source {source})" if source else ""
    if kind == "created":
        state = "active" if after.active else f"inactive: {after.inactive_reason}"
        return f"create {after.email}, {state}, managed {after.management}{via}"
    if kind == "activated":
        return f"activate {after.email}{via}"
    if kind == "deactivated":
        return f"deactivate {after.email}: {after.inactive_reason}{via}"
    assert before is not None
    diffs = []
    for name in ("management", "in_cucm", "ad_guid", "display_name", "inactive_reason", "deleted"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            diffs.append(f"{name.replace('_', ' ')} {old!r} -> {new!r}")
    return f"update {after.email}: " + ", ".join(diffs)
