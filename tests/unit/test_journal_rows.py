"""A created person's journal row records the policy's AddPerson decision compactly, and reads back as it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from policy import Management, Settings, person_added
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
    d = person_added("a@x", active, management, NOW, settings)
    row = journal.added_row(Created("a@x", Fields(active, management.value)), d, "r1", "scheduler")
    assert _read(row) == d


def test_a_created_row_of_the_old_format_reads_as_the_add_person_decision() -> None:
    row = journal.added_row(Created("a@x", Fields(False, "remote")), person_added(
        "a@x", False, Management.REMOTE, NOW, Settings()), "r1", "scheduler")
    old = {**row, "decision": None}
    assert _read(old) == person_added("a@x", False, Management.REMOTE, NOW, Settings())


def test_rows_without_a_decision_record_none() -> None:
    row = journal.refusal_row("r1", "scheduler", NOW, "refused", {"deactivations": 20})
    assert journal.recorded_decision(None, row["event"], NOW, row["after"], None) is None
