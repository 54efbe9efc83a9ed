"""Every CLI input is held to the store's limits (syncd.store.limits): the limit itself is accepted, one past it is
a usage error (exit 2, one line on stderr), never a traceback; on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess

from syncd.store import limits
from tests.e2e.site import Site

FUTURE = "8999-06-01"


def usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err


def test_counts_and_the_purchase_total_are_capped(site: Site):
    site.run("sync")
    for args in (("licenses", "purchase", "3000000000"), ("licenses", "purchase", str(limits.MAX_COUNT + 1)),
                 ("licenses", "purchase", "0"),
                 ("licenses", "demo", "99999999999", "--expires", FUTURE),
                 ("licenses", "demo", str(limits.MAX_COUNT + 1), "--expires", FUTURE)):
        usage_error(site.run(*args, check=None), "argument count", "400,000")
    assert site.json("licenses", "demo", str(limits.MAX_COUNT), "--expires", FUTURE)["rule"]
    site.run("licenses", "purchase", str(limits.MAX_COUNT - 1))
    site.run("licenses", "purchase", "1")
    refused = site.run("licenses", "purchase", "1", check=65)
    assert "refused" in refused.stderr and "400,000" in refused.stderr and "Traceback" not in refused.stderr
    assert site.json("licenses", "report")["installed_permanent"] == limits.MAX_COUNT
    assert site.json("db", "verify")["ok"] is True


def test_journal_limit_and_times_are_in_range(site: Site):
    site.run("sync")
    for args in (("journal", "--limit", "99999999999999999999"), ("journal", "--limit", str(limits.MAX_ROWS + 1))):
        usage_error(site.run(*args, check=None), "argument --limit", "10,000,000")
    assert len(site.json("journal", "--limit", str(limits.MAX_ROWS))) == 40
    for args in (("licenses", "trial", "--start", "9999-12-01"),
                 ("licenses", "trial", "--start", "9000-01-01T00:00:01Z"),
                 ("licenses", "report", "--at", "1969-12-31T23:59:59Z"),
                 ("explain", "user1@example.com", "--at", "9999-12-31T23:59:59-05:00"),
                 ("journal", "--since", "0001-01-01T00:00:00+01:00"),
                 ("licenses", "demo", "1", "--expires", "9999-12-31")):
        usage_error(site.run(*args, check=None), "time out of range", "9000-01-01")
    assert site.json("explain", "user1@example.com", "--at", "9000-01-01")["email"] == "user1@example.com"
    assert site.json("licenses", "report", "--at", "1970-01-01")["installed_permanent"] == 0
    assert site.json("licenses", "trial", "--start", "9000-01-01")["rule"]
    assert site.json("db", "verify")["ok"] is True


def test_emails_and_ids_fit_their_columns(site: Site):
    site.run("sync")
    usage_error(site.run("users", "show", "\udcff@x", check=None), "not valid UTF-8")
    usage_error(site.run("users", "show", "a\x01b@example.com", check=None), "control character")
    long_email = "a" * (limits.EMAIL - len("@example.com")) + "@example.com"
    site.run("users", "show", long_email, check=65)
    for args in (("users", "show", "a" + long_email), ("explain", "a" + long_email),
                 ("licenses", "reserve", "a" + long_email), ("journal", "--person", "a" + long_email),
                 ("meetings", "start", "a" + long_email)):
        usage_error(site.run(*args, check=None), "e-mail address has 321 characters, more than 320")

    mid = "m" * limits.MEETING_ID
    assert site.json("meetings", "start", "user1@example.com", "--meeting", mid, check=None)["meeting_id"] == mid
    usage_error(site.run("meetings", "start", "user2@example.com", "--meeting", mid + "m", check=None),
                "meeting id has 129 characters")
    usage_error(site.run("meetings", "end", mid + "m", check=None), "meeting id has 129 characters")
    site.run("meetings", "end", mid)

    gid = "g" * limits.GRANT_ID
    site.run("licenses", "demo", "1", "--expires", FUTURE, "--id", gid)
    usage_error(site.run("licenses", "demo", "1", "--expires", FUTURE, "--id", gid + "g", check=None),
                "grant id has 65 characters")
    usage_error(site.run("sync", "--source", "s" * (limits.SOURCE + 1), check=None), "source name has 65")
    assert site.json("db", "verify")["ok"] is True
