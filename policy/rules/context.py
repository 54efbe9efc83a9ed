"""The decision being built: one event at one time on one ledger, and the actions chosen so far."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from policy.decisions import Action, Decision, Notice
from policy.events import Event
from policy.model import Ledger, LicenseKind
from policy.settings import Settings


def require_aware(now: datetime) -> None:
    """Refuse a naive ``now``: comparing it with the ledger's aware times would raise deep inside a rule."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware time")


@dataclass
class Context:
    """What a rule reads (``ledger``, ``event``, ``settings``, ``now``) and the ``actions`` it has chosen."""

    ledger: Ledger
    event: Event
    settings: Settings
    now: datetime
    actions: list[Action] = field(default_factory=list)

    def done(
        self,
        rule: str,
        sentence: str,
        *,
        granted: bool | None = None,
        reason: str | None = None,
        kind: LicenseKind | None = None,
        notices: Iterable[Notice] = (),
    ) -> Decision:
        """The decision: the event, the rule that fired, its sentence and the actions chosen so far."""
        return Decision(
            event=self.event,
            now=self.now,
            settings_digest=self.settings.digest(),
            rule=rule,
            sentence=sentence,
            granted=granted,
            reason=reason,
            license_kind=kind,
            actions=tuple(self.actions),
            notices=tuple(notices),
        )

    def refuse_unknown(self, key: str) -> Decision:
        """A request about a person the ledger does not know: refused, nothing changes."""
        return self.done("-", f"refused: {key} is not known to syncd", granted=False, reason="unknown_person")
