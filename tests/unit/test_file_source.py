"""The file source's rules for bad input (issue 14): what refuses the whole file (an incomplete read) and what
refuses one record (an Invalid, named by line and key), for JSON lines and CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.ad.fact import AdFact
from connectors.base import Invalid, SourceBatch
from connectors.cucm.fact import CucmFact
from connectors.file.connector import FileConnector
from connectors.file.options import FileOptions

HEADER = "uuid,userid,mailid,firstname,lastname,status,ldap_synced"
GOOD = {"uuid": "{AAAA-1}", "userid": "good", "mailid": "good@example.com", "firstname": "G", "lastname": "Ood",
        "status": 1, "ldap_synced": True}


def read(tmp_path: Path, text: str, fmt: str, kind: str = "cucm") -> SourceBatch:
    path = tmp_path / f"users.{fmt}"
    path.write_text(text, encoding="utf-8")
    fact: Any = CucmFact if kind == "cucm" else AdFact
    return FileConnector(FileOptions(path=str(path), format=fmt, kind=kind)).read(None, True, datetime.now(UTC),
                                                                                    fact.convert)


def jsonl(*rows: dict[str, Any]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def invalid(batch: SourceBatch) -> list[tuple[str, str]]:
    return [(r.key, r.reason) for r in batch.records if type(r) is Invalid]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_byte_order_mark_is_dropped(tmp_path: Path, fmt: str):
    text = f"{HEADER}\n{{AAAA-1}},good,good@example.com,G,Ood,1,true\n" if fmt == "csv" else jsonl(GOOD)
    batch = read(tmp_path, "\ufeff" + text, fmt)
    assert batch.complete and batch.full and invalid(batch) == []
    assert [(f.key, f.userid, f.status) for f in batch.records] == [("aaaa-1", "good", 1)]


@pytest.mark.parametrize(("header", "error"), [
    (HEADER + ",uuid", "line 1 (header): column 'uuid' named twice"),
    (HEADER + ",status", "line 1 (header): column 'status' named twice"),
    (HEADER.replace("uuid,", ""), "line 1 (header): no column 'uuid'"),
    (HEADER.replace("status,", ""), "line 1 (header): no column 'status'"),
])
def test_a_csv_header_that_names_a_column_twice_or_lacks_one_refuses_the_file(tmp_path: Path, header: str,
                                                                              error: str):
    n = header.count(",") + 1
    batch = read(tmp_path, f"{header}\n" + ",".join(["1"] * n) + "\n", "csv")
    assert not batch.complete and batch.records == [] and batch.error and batch.error.endswith(error)


# (the bad row made of GOOD, the Invalid's key, its reason)
BAD_JSON: list[tuple[dict[str, Any], str, str]] = [
    ({**GOOD, "uuid": None}, "", "uuid is missing"),
    ({k: v for k, v in GOOD.items() if k != "uuid"}, "", "uuid is missing"),
    ({**GOOD, "uuid": ""}, "", "uuid is empty"),
    ({**GOOD, "uuid": "{}"}, "", "uuid is empty"),
    ({**GOOD, "uuid": 42}, "", "uuid is a number, not a string"),
    ({**GOOD, "uuid": {"a": 1}}, "", "uuid is a JSON object, not a string"),
    ({**GOOD, "userid": {"a": 1}}, "aaaa-1", "userid is a JSON object"),
    ({**GOOD, "lastname": ["x"]}, "aaaa-1", "lastname is a JSON array"),
    ({**GOOD, "userid": None}, "aaaa-1", "userid: missing"),
    ({**GOOD, "userid": True}, "aaaa-1", "userid: not text: True"),
    ({**GOOD, "status": 99}, "aaaa-1", "status: 99 is neither 1 nor 2"),
    ({**GOOD, "status": 0}, "aaaa-1", "status: 0 is neither 1 nor 2"),
    ({**GOOD, "status": True}, "aaaa-1", "status: not an integer: True"),
    ({**GOOD, "status": 1.0}, "aaaa-1", "status: not an integer: 1.0"),
    ({**GOOD, "status": "x"}, "aaaa-1", "status: invalid literal"),
    ({**GOOD, "status": None}, "aaaa-1", "status: missing"),
    ({**GOOD, "ldap_synced": "maybe"}, "aaaa-1", "ldap_synced: not a boolean: 'maybe'"),
    ({**GOOD, "firstname": "n" * 300}, "aaaa-1", "name longer than 256 characters"),
]


@pytest.mark.parametrize(("row", "key", "reason"), BAD_JSON, ids=[r for _, _, r in BAD_JSON])
def test_a_bad_json_record_is_invalid_by_line_and_key(tmp_path: Path, row: dict[str, Any], key: str, reason: str):
    other = {**GOOD, "uuid": "bbbb-2", "userid": "other", "mailid": "other@example.com"}
    batch = read(tmp_path, jsonl(other) + "\n" + jsonl(row), "jsonl")
    assert batch.complete
    [(got_key, got_reason)] = invalid(batch)
    assert got_key == key and got_reason.startswith(f"line 3: {reason}"), got_reason
    assert [f.key for f in batch.records if type(f) is CucmFact] == ["bbbb-2"]
    assert batch.full is bool(key)      # a record without a key: nobody can be removed by absence
    assert batch.notes == ([] if key else ["1 records without a usable key: nobody is removed by absence"])


def test_two_null_keys_are_two_invalid_records_not_one_person(tmp_path: Path):
    batch = read(tmp_path, jsonl({**GOOD, "uuid": None}, {**GOOD, "uuid": None, "userid": "second"}), "jsonl")
    assert invalid(batch) == [("", "line 1: uuid is missing"), ("", "line 2: uuid is missing")]


def test_a_json_object_that_names_a_field_twice_is_invalid(tmp_path: Path):
    twice = '{"uuid": "a", "userid": "u", "status": 1, "status": 2}\n'
    batch = read(tmp_path, jsonl(GOOD) + twice, "jsonl")
    assert batch.complete and invalid(batch) == [("", "line 2: field 'status' given twice")]


@pytest.mark.parametrize(("line", "key", "reason"), [
    ("{AAAA-3},u3,u3@example.com,Smith, Jr,x,1,true", "", "8 fields where the header names 7"),
    ("{AAAA-3},u3,u3@example.com,A,B,1", "", "6 fields where the header names 7"),
    (",u3,u3@example.com,A,B,1,", "", "uuid is empty"),
    ("{AAAA-3},u3,u3@example.com,A,B,99,", "aaaa-3", "status: 99 is neither 1 nor 2"),
    ("{AAAA-3},u3,u3@example.com,A,B,,", "aaaa-3", "status: missing"),
    ("{AAAA-3},u3,u3@example.com,A,B,1,sometimes", "aaaa-3", "ldap_synced: not a boolean"),
])
def test_a_bad_csv_row_is_invalid_by_line_and_key(tmp_path: Path, line: str, key: str, reason: str):
    text = f"\ufeff{HEADER}\n{{AAAA-1}},good,good@example.com,G,Ood,1,true\n\n{line}\n"
    batch = read(tmp_path, text, "csv")
    assert batch.complete and [r.key for r in batch.records if type(r) is CucmFact] == ["aaaa-1"]
    [(got_key, got_reason)] = invalid(batch)
    assert got_key == key and got_reason.startswith(f"line 4: {reason}"), got_reason


@pytest.mark.parametrize(("row", "reason"), [
    ({"guid": None}, "guid is missing"),
    ({"guid": "G", "userAccountControl": 5.5}, "userAccountControl: not an integer: 5.5"),
    ({"guid": "G", "userAccountControl": [512]}, "userAccountControl is a JSON array"),
    ({"guid": "G", "accountExpires": "soon"}, "accountExpires: Invalid isoformat string"),
    ({"guid": "G", "mail": {"x": "y"}}, "mail is a JSON object"),
])
def test_a_bad_ad_record_is_invalid(tmp_path: Path, row: dict[str, Any], reason: str):
    batch = read(tmp_path, jsonl({"guid": "H", "sAMAccountName": "h"}, row), "jsonl", "ad")
    assert batch.complete and [r.key for r in batch.records if type(r) is AdFact] == ["h"]
    [(_, got)] = invalid(batch)
    assert got.startswith(f"line 2: {reason}"), got


@pytest.mark.parametrize(("text", "error"), [
    ('{"uuid": "a", "userid": "u", "status": 1}\n\n[1]\n', "line 3: not a JSON object"),
    ('{"uuid": "a", "userid": "u", "status": 1}\n{"uuid": \n', "line 2: Expecting value"),
])
def test_a_line_that_is_no_json_object_refuses_the_file(tmp_path: Path, text: str, error: str):
    batch = read(tmp_path, text, "jsonl")
    assert not batch.complete and batch.error and error in batch.error
