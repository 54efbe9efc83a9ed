"""A created person's journal row carries the policy's record of its AddPerson decision, and reads back as that
decision: the one `policy.person_added` and `policy.decide` make."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from policy import AddPerson, Ledger, Management, Settings, added_person_record, decide, person_added
from syncd import journal

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Fields:
    active: bool
    management: str
    deleted: bool = False
    in_cucm: bool = True
    ad_guid: str | None = None
    display_name: str | None = "A"
    inactive_reason: str | None = None


@dataclass(frozen=True)
class Created:
    email: str
    after: Fields
    kind: str = "created"
    source: str | None = "cucm"
    before: None = None

    @property
    def sentence(self) -> str:
        return f"create {self.email}"


def _read(row: dict) -> object:
    stored = json.loads(json.dumps(row, default=str))     # what the JSON columns give back
    return journal.recorded_decision(row["person"], row["event"], row["at"], stored["after"], stored["decision"])


@pytest.mark.parametrize("active", [True, False])
@pytest.mark.parametrize("management", list(Management))
def test_a_created_row_reads_back_as_the_policys_decision(active: bool, management: Management) -> None:
    settings = Settings(grace_days=30)
    row = journal.added_row(Created("a@x", Fields(active, management.value)), "r1", "scheduler", NOW,
                            added_person_record(settings))
    assert _read(row) == person_added("a@x", active, management, NOW, settings)
    assert _read(row) == decide(Ledger.empty(), AddPerson("a@x", active, management), settings, NOW)


def test_a_created_row_of_the_old_format_reads_as_the_add_person_decision() -> None:
    row = journal.added_row(Created("a@x", Fields(False, "remote")), "r1", "scheduler", NOW,
                            added_person_record(Settings(grace_days=30)))
    old = {**row, "decision": None}
    assert _read(old) == person_added("a@x", False, Management.REMOTE, NOW, Settings())


def test_rows_without_a_decision_record_none() -> None:
    row = journal.refusal_row("r1", "scheduler", NOW, "refused", {"deactivations": 20})
    assert journal.recorded_decision(None, row["event"], NOW, row["after"], None) is None
