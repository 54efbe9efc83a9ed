"""Values that a terminal would obey (ESC sequences, newlines, bidi overrides, C1 controls) come from the file
sources and the CLI into every text command's output only as visible escapes, while ``--json`` keeps them
exact. On SQLite and on PostgreSQL (which stores no NUL, so none is written here)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from typing import Any

from tests.e2e.site import SYNCD, Site, cucm_row

# Retitles the window, rings, clears the screen, forges lines, reorders text, and a C1 CSI: what a source
# can carry in any text field.
HOSTILE = "\x1b]0;t\x07\x1b[2J\n\r\t\u202e\x85\u2028\x9b"
SHOWN = r"\x1b]0;t\x07\x1b[2J\n\r\t\u202e\x85\u2028\x9b"
# A record whose e-mail key holds a control or bidi character is skipped where it is read (an invalid record),
# so the people here have plain addresses and the hostile values travel in names, userids and account names.
EVIL = "evil@example.com"
TWIN = "twin@example.com"
# The command line and the API refuse C0 and C1 controls in what they are given (exit 2, HTTP 400); bidi
# controls and separators are no controls to them and come through to be shown.
BIDI, BIDI_SHOWN = "\u202e\u2066\u200f\u061c\u2028", r"\u202e\u2066\u200f\u061c\u2028"
EVE = "eve@example.com"
MEETING_JSON, MEETING_TEXT = "mj" + BIDI, "mt" + BIDI

OBEYED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _run(site: Site, *args: str, json_out: bool = False, check: int = 0) -> tuple[str, str]:
    """stdout and stderr exactly as written (bytes decoded without newline translation, which would hide a CR)."""
    cmd = [SYNCD, "--config", str(site.config)] + (["--json"] if json_out else []) + list(args)
    proc = subprocess.run(cmd, cwd=site.root, capture_output=True, timeout=300,
                          env={**os.environ, "SYNCD_CONFIG": ""})
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == check, (args, proc.returncode, out, err)
    return out, err


def _text(site: Site, *args: str) -> str:
    """A text command's stdout, after checking that neither stream carries a character a terminal obeys and that
    each line ends where the command ended it."""
    out, err = _run(site, *args)
    for stream in (out, err):
        assert not OBEYED.search(stream), (args, stream)
    return out


def _json(site: Site, *args: str) -> Any:
    return json.loads(_run(site, *args, json_out=True)[0])


def _write_sources(site: Site) -> None:
    site.write_users({
        1: cucm_row(1),
        2: cucm_row(2, userid="evil" + HOSTILE, mail=EVIL, firstname="Evil" + HOSTILE, lastname=HOSTILE),
        5: cucm_row(5, userid="eve" + HOSTILE, mail=EVE, firstname="Eve" + HOSTILE, lastname=HOSTILE),
        3: cucm_row(3, userid="twin1" + HOSTILE, mail=TWIN),
        4: cucm_row(4, userid="twin2" + HOSTILE, mail=TWIN),
    })
    ad_file = site.root / "ad-users.csv"
    with ad_file.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["guid", "sAMAccountName", "userPrincipalName", "mail", "userAccountControl",
                                     "accountExpires", "deleted", "in_host_group"])
        writer.writeheader()
        writer.writerow({"guid": "00000000-0000-4000-9000-000000000002", "sAMAccountName": "sam" + HOSTILE,
                         "userPrincipalName": "upn" + HOSTILE, "mail": EVE, "userAccountControl": "512",
                         "accountExpires": "", "deleted": "false", "in_host_group": "true"})
    site.extra_config = f'\n[[sources.file]]\nname = "ad"\nkind = "ad"\nformat = "csv"\npath = "{ad_file}"\n'
    site.write_config()


def test_every_text_command_shows_hostile_values_escaped_and_json_keeps_them(site: Site):
    _write_sources(site)
    dry = _text(site, "sync", "--dry-run")
    assert EVIL in dry and EVE in dry
    applied = _text(site, "sync")
    assert TWIN in applied and "twin1" + SHOWN in applied      # the conflict line names the userids
    listed = _text(site, "users", "list")
    assert EVIL in listed and EVE in listed
    assert {EVIL, EVE} <= {p["email"] for p in _json(site, "users", "list")}

    shown = _text(site, "users", "show", EVE)
    assert all(v + SHOWN in shown for v in ("eve", "Eve", "upn")) and "sam" + SHOWN.lower() in shown
    person = _json(site, "users", "show", EVE)
    assert person["email"] == EVE and person["sources"]["cucm"]["userid"] == "eve" + HOSTILE
    assert person["sources"]["ad"]["sam"] == "sam" + HOSTILE.lower()

    conflicts = _text(site, "conflicts")
    assert TWIN in conflicts and "twin1" + SHOWN in conflicts and "twin2" + SHOWN in conflicts
    assert {r["userid"] for c in _json(site, "conflicts") for r in c["sources"]["cucm"]} == \
        {"twin1" + HOSTILE, "twin2" + HOSTILE}

    assert _json(site, "meetings", "start", EVE, "--meeting", MEETING_JSON)["meeting_id"] == MEETING_JSON
    assert _text(site, "meetings", "start", EVE, "--meeting", MEETING_TEXT).startswith("ok ")
    assert "mt" + BIDI_SHOWN in _text(site, "meetings", "end", MEETING_TEXT)
    assert _json(site, "meetings", "end", MEETING_JSON)["message"] == f"meeting {MEETING_JSON} ended"
    journal = _text(site, "journal")
    assert "mj" + BIDI_SHOWN in journal and "mt" + BIDI_SHOWN in journal
    assert EVIL in journal and EVE in journal
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ", line) for line in journal.splitlines())  # none forged
    assert any(MEETING_JSON in json.dumps(r, ensure_ascii=False) for r in _json(site, "journal"))

    assert EVE in _text(site, "explain", EVE)
    _text(site, "licenses", "report")
    _text(site, "status")
    _text(site, "sync")


def test_error_lines_show_hostile_values_escaped(site: Site):
    out, err = _run(site, "users", "show", "nobody\u202e\u2066@example.com", check=65)
    assert not OBEYED.search(out + err) and r"nobody\u202e\u2066@example.com" in err
    assert len(err.splitlines()) == 1
