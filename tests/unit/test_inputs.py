"""syncd.licensing.inputs: the store's limits accepted, one past them a usage error that never repeats the value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from syncd import errors
from syncd.licensing import inputs
from syncd.store import limits, tables


def test_the_schema_and_the_validation_share_the_lengths():
    assert tables.people.c.email.type.length == limits.EMAIL
    assert tables.meetings.c.meeting_id.type.length == limits.MEETING_ID
    assert tables.demo_grants.c.id.type.length == limits.GRANT_ID
    assert tables.runs.c.run_id.type.length == limits.RUN_ID
    assert tables.source_records.c.source.type.length == limits.SOURCE


@pytest.mark.parametrize(("check", "limit"), [
    (inputs.email, limits.EMAIL), (inputs.meeting_id, limits.MEETING_ID), (inputs.grant_id, limits.GRANT_ID),
    (inputs.run_id, limits.RUN_ID), (inputs.source_name, limits.SOURCE),
])
def test_text_lengths(check, limit):
    assert check("x" * limit) == "x" * limit
    with pytest.raises(errors.UsageError, match=f"{limit + 1} characters, more than {limit}"):
        check("x" * (limit + 1))


@pytest.mark.parametrize(("value", "message"), [
    ("a\x00b@example.com", "control character"), ("a\x9fb", "control character"), ("\udcff@x", "not valid UTF-8"),
])
def test_controls_and_undecodable_bytes(value, message):
    with pytest.raises(errors.UsageError, match=message) as exc:
        inputs.meeting_id(value)
    assert value not in str(exc.value)


def test_email_blanks_around_are_dropped():
    assert inputs.email("  " + "x" * limits.EMAIL + "\n") == "x" * limits.EMAIL


def test_counts_and_row_limits():
    assert inputs.count(limits.MAX_COUNT) == limits.MAX_COUNT
    assert inputs.row_limit(limits.MAX_ROWS) == limits.MAX_ROWS
    for bad in (0, -1, limits.MAX_COUNT + 1, 10**30):
        with pytest.raises(errors.UsageError):
            inputs.count(bad)
    with pytest.raises(errors.UsageError):
        inputs.row_limit(limits.MAX_ROWS + 1)


def test_times():
    assert inputs.time(limits.LATEST) == limits.LATEST
    assert inputs.time(limits.EARLIEST) == limits.EARLIEST
    far = timezone(timedelta(hours=-23))
    for bad in (limits.LATEST + timedelta(seconds=1), limits.EARLIEST - timedelta(seconds=1),
                datetime.max.replace(tzinfo=far), datetime.min.replace(tzinfo=timezone(timedelta(hours=1)))):
        with pytest.raises(errors.UsageError, match="time out of range"):
            inputs.time(bad)
    assert inputs.time(datetime(2030, 1, 1, tzinfo=UTC)).year == 2030


def test_purchase_total():
    inputs.purchase_total(limits.MAX_COUNT - 1, 1)
    with pytest.raises(errors.UserError, match="400,000") as exc:
        inputs.purchase_total(limits.MAX_COUNT, 1)
    assert exc.value.exit_code == errors.UNKNOWN_OR_REFUSED
