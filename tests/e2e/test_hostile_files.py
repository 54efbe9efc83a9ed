"""Bad input handled by line (issue 14): an Excel CSV's byte-order mark is read, a CSV header that names a column
twice refuses the file, a record with a null, empty or non-string key, a non-scalar value or a status other than
1 or 2 is skipped, counted and named by line and key; a CUCM user with a raw ESC in a name (which makes the AXL
response malformed XML) or a status other than 1 or 2 is skipped and counted. In each case a healthy CUCM change
in the same run still applies, with the normal exit code. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import cucm_row
from tests.e2e.test_hostile_records import MixedSite, _src, _sync_beside_status_2

ESC_NAME = "Mallory\x1b[2J\x1b]0;owned\x07"


@pytest.fixture
def sim():
    with Simulator(60, seed=5, tls=True) as s:
        yield s


def _csv(header: str, *lines: str) -> str:
    return "\n".join((header, *lines)) + "\n"


HEADER = "uuid,userid,mailid,firstname,lastname,status,ldap_synced"


def _csv_line(n: int, status: object = 1) -> str:
    r = cucm_row(n, status=status)
    return ",".join(str(r[f]) for f in HEADER.split(","))


def test_an_excel_csv_with_a_byte_order_mark_is_read(tmp_path: Path, db_url: str, sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "csv")
    site.path.write_text("\ufeff" + _csv(HEADER, _csv_line(9001)), encoding="utf-8")
    out = _sync_beside_status_2(site, sim, lambda: site.path.write_text(
        "\ufeff" + _csv(HEADER, _csv_line(9001), _csv_line(9002)), encoding="utf-8"), 0)
    extra = _src(out, "extra")
    assert extra["complete"] and extra["full"] and extra["records"] == 2 and extra["invalid"] == 0, extra
    people = site.people()
    assert people["user9001@example.com"]["active"] and people["user9002@example.com"]["active"]


def test_a_csv_header_naming_a_column_twice_refuses_the_file(tmp_path: Path, db_url: str, sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "csv")
    site.path.write_text(_csv(HEADER, _csv_line(9001)))
    # The second status column would have won and deactivated user9001.
    out = _sync_beside_status_2(site, sim, lambda: site.path.write_text(
        _csv(HEADER + ",status", _csv_line(9001) + ",2")), 69)
    extra = _src(out, "extra")
    assert not extra["complete"] and "line 1 (header): column 'status' named twice" in extra["error"], extra
    assert site.people()["user9001@example.com"]["active"] is True


def _bad_rows() -> list[tuple[str, str]]:
    """(the JSON line, the reason its warning names), one per kind of bad record."""
    row = cucm_row
    return [
        (json.dumps(row(9101, uuid=None)), "uuid is missing"),
        (json.dumps(row(9102, uuid=None)), "uuid is missing"),            # a second: not one person "none"
        (json.dumps(row(9103, uuid="")), "uuid is empty"),
        (json.dumps(row(9104, uuid=9104)), "uuid is a number, not a string"),
        (json.dumps(row(9105, userid={"a": 1})), "userid is a JSON object"),
        (json.dumps(row(9106, lastname=["x"])), "lastname is a JSON array"),
        (json.dumps(row(9107, status=99)), "status: 99 is neither 1 nor 2"),
        (json.dumps(row(9108, status="active")), "status: invalid literal"),
        (json.dumps(row(9109))[:-1] + ', "status": 2}', "field 'status' given twice"),
    ]


def test_bad_json_records_are_skipped_by_line_and_the_rest_applies(tmp_path: Path, db_url: str, sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "jsonl")
    stored = cucm_row(9001)
    site.write_rows([stored, cucm_row(9002)])
    bad = _bad_rows()

    def prepare() -> None:
        # user9002's row turns bad (status 99): its stored fact is kept; user9003 is new and healthy.
        lines = [json.dumps(stored), json.dumps(cucm_row(9002, status=99)), json.dumps(cucm_row(9003))]
        site.path.write_text("\ufeff" + "\n".join(lines + [b for b, _ in bad]) + "\n", encoding="utf-8")

    out = _sync_beside_status_2(site, sim, prepare, 0)
    extra = _src(out, "extra")
    assert extra["complete"] and extra["invalid"] == len(bad) + 1, extra
    # Records without a usable key cannot be told from people who left: nobody is removed by absence.
    assert not extra["full"] and any("without a usable key" in n for n in extra["notes"]), extra
    warned = [w for w in out["warnings"] if w.startswith("source extra: record ")]
    assert 'record "00000000-0000-4000-8000-000000009002" skipped: line 2: status: 99 is neither 1 nor 2' in " ".join(
        warned), warned
    for i, (_, reason) in enumerate(bad, start=4):
        assert [w for w in warned if f"line {i}: {reason}" in w], (i, reason, warned)
    people = site.people()
    assert people["user9001@example.com"]["active"] and people["user9002@example.com"]["active"]
    assert people["user9003@example.com"]["active"]
    assert not {f"user{n}@example.com" for n in range(9101, 9110)} & set(people)


def test_bad_csv_rows_are_skipped_by_line(tmp_path: Path, db_url: str, sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "csv")
    site.path.write_text(_csv(HEADER, _csv_line(9001)))
    lines = [_csv_line(9001), _csv_line(9201, status=99), _csv_line(9202).replace(",User,", ",Smith, Jr,"),
             "," + _csv_line(9203).split(",", 1)[1]]
    out = _sync_beside_status_2(site, sim, lambda: site.path.write_text(_csv(HEADER, *lines)), 0)
    extra = _src(out, "extra")
    assert extra["complete"] and extra["invalid"] == 3, extra
    warned = " | ".join(out["warnings"])
    for reason in ("line 3: status: 99 is neither 1 nor 2", "line 4: 8 fields where the header names 7",
                   "line 5: uuid is empty"):
        assert reason in warned, warned
    assert site.people()["user9001@example.com"]["active"]


def _bystander(sim: Simulator) -> Any:
    """An active CUCM user with an e-mail of its own: the second, as the first is the license holder."""
    return [u for u in sim.population if u.status == 1 and u.mailid
            and sum(1 for v in sim.population if v.mailid and v.mailid.casefold() == u.mailid.casefold()) == 1][1]


def test_a_cucm_user_with_esc_in_a_name_is_skipped_and_the_read_applies(tmp_path: Path, db_url: str,
                                                                        sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "jsonl")
    site.write_rows([cucm_row(9001)])
    renamed: list[Any] = []

    def prepare() -> None:
        sim.add_user("mallory", "mallory@example.com", ESC_NAME, "M")    # new: never stored
        renamed.append(_bystander(sim))                           # stored, then renamed
        sim.set_name(renamed[0].userid, renamed[0].firstname, "Doe\x1b")

    out = _sync_beside_status_2(site, sim, prepare, 0)       # the run before this was exit 69: nobody updated
    cucm = _src(out, "cucm")
    assert cucm["complete"] and cucm["invalid"] == 2, cucm
    esc = [w for w in out["warnings"] if w.startswith("source cucm: record ")
           and "name has a character XML 1.0 forbids (a control such as ESC)" in w]
    assert len(esc) == 2, out["warnings"]
    people = site.people()
    assert "mallory@example.com" not in people
    assert people[renamed[0].mailid.casefold()]["active"] is True          # its stored fact is kept
    full = site.json("sync", "--full")
    assert full["exit_code"] == 0 and full["sources"][0]["invalid"] == 2 and full["changes"]["deactivated"] == 0
    assert site.people()[renamed[0].mailid.casefold()]["active"] is True


def test_a_cucm_status_other_than_1_or_2_is_skipped_not_inactive(tmp_path: Path, db_url: str, sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "jsonl")
    site.write_rows([cucm_row(9001)])
    odd: list[Any] = []

    def prepare() -> None:
        odd.append(_bystander(sim))
        sim.set_status(odd[0].userid, 99)

    out = _sync_beside_status_2(site, sim, prepare, 0)
    cucm = _src(out, "cucm")
    assert cucm["complete"] and cucm["invalid"] == 1, cucm
    assert [w for w in out["warnings"] if "status 99 is neither 1 nor 2" in w], out["warnings"]
    person = site.people()[odd[0].mailid.casefold()]
    assert person["active"] is True
