"""`syncd licenses import FILE` adopts a site's holdings (DESIGN 12, issue 16), through the installed `syncd`
command on SQLite and PostgreSQL: after an import `explain` and `licenses report` agree with the imported site;
an import that would break an invariant is refused whole, every offending line named, nothing written (exit 65);
UTF-16 with a BOM and tab separation are read; `--dry-run` writes nothing and says what would change; the
journal replays to the ledger after an import (`db verify`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from syncd.store import tables
from tests.e2e.site import Site, cucm_row

INACTIVE = 60


def seeded(site: Site) -> Site:
    """60 people synced (user60 inactive in CUCM), 50 Permanent licenses installed."""
    site.write_users({n: cucm_row(n, status=2 if n == INACTIVE else 1) for n in range(1, 61)})
    site.run("sync")
    site.run("licenses", "set-installed", "50")
    return site


def write(site: Site, name: str, lines: list[str], encoding: str = "utf-8", sep: str = ",") -> Path:
    path = site.root / name
    path.write_bytes((("\n".join(sep.join(cells.split(",")) for cells in lines)) + "\n").encode(encoding))
    return path


def permanent_rows(numbers: range) -> list[str]:
    # dates and times with an offset, as an export or an admin writes them
    return [f"user{n}@example.com,permanent,{'2026-01-05' if n % 2 else '2026-01-05T09:30:00+01:00'}"
            for n in numbers]


def held(site: Site) -> dict[str, str]:
    return {e: p["license"]["kind"] for e, p in site.people().items() if p["license"] is not None}


def test_the_seed_situation_from_an_imported_file(site: Site) -> None:
    """50 installed, 47 held by imported rows: an active unlicensed user gets a free Permanent; with the pool
    then empty (3 more imported), Grace. `explain` and `licenses report` agree with the imported site."""
    seeded(site)
    csv = write(site, "holdings.csv", ["email,kind,assigned_at", *permanent_rows(range(1, 48))])
    got = site.json("licenses", "import", str(csv))
    assert (got["dry_run"], got["imported"], got["problems"]) == (False, 47, [])
    report = site.json("licenses", "report")
    assert (report["installed_permanent"], report["in_use"]["permanent"], report["free_permanent"]) == (50, 47, 3)
    ex = site.json("explain", "user48@example.com")
    assert ex["license"] is None
    assert (ex["if_hosting"]["granted"], ex["if_hosting"]["license_kind"]) == (True, "permanent")
    assert "Permanent: 50 installed, 47 in use, 3 free" in ex["facts"]
    assert held(site)["user1@example.com"] == "permanent"

    site.run("licenses", "import", str(write(site, "more.csv", permanent_rows(range(48, 51)))))
    report = site.json("licenses", "report")
    assert (report["in_use"]["permanent"], report["free_permanent"]) == (50, 0)
    ex = site.json("explain", "user51@example.com")
    assert (ex["if_hosting"]["granted"], ex["if_hosting"]["license_kind"]) == (True, "grace")
    assert "Permanent: 50 installed, 50 in use, 0 free" in ex["facts"]
    assert site.json("meetings", "start", "user51@example.com")["license_kind"] == "grace"

    # journaled: a row per imported license (bookkeeping, "-") and one summing each import up
    with site.store() as (conn, _):
        j = tables.journal
        rows = conn.execute(select(j.c.person, j.c.event, j.c.rule).where(
            j.c.event.in_(["import_holdings", "license"]))).all()
    assert sorted(r.person for r in rows if r.event == "license") == sorted(
        f"user{n}@example.com" for n in range(1, 51))
    assert {r.rule for r in rows if r.event == "license"} == {"-"}
    assert [r.person for r in rows if r.event == "import_holdings"] == [None, None]
    assert "ledger consistent" in site.run("db", "verify").stdout
    problems, _ = site.inspect()
    assert problems == []


def test_an_import_that_breaks_an_invariant_is_refused_whole_naming_every_line(site: Site) -> None:
    seeded(site)
    site.run("licenses", "import", str(write(site, "first.csv", permanent_rows(range(1, 46)))))
    before = site.digest()
    csv = write(site, "bad.csv", [
        "email,kind,assigned_at",
        "user46@example.com,permanent,2026-01-05",             # fine (48 would be in use)
        "ghost@example.com,permanent,2026-01-05",              # line 3: unknown person
        f"user{INACTIVE}@example.com,grace,2026-11-20",        # line 4: inactive
        "user46@example.com,grace,2026-11-20",                 # line 5: a second license for one person
        "user47@example.com,permanent,2026-01-05",             # fine (47)
        "user48@example.com,permanent,2026-01-05",             # fine (48... of 50)
        "user49@example.com,permanent,2026-01-05",
        "user50@example.com,permanent,2026-01-05",
        "user51@example.com,permanent,2026-01-05",             # line 10: beyond the 50 installed
    ])
    proc = site.run("licenses", "import", str(csv), check=65)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("refused (-): refused: 4 lines of 9 would break the ledger's invariants")
    assert lines[1:] == [
        "line 3: ghost@example.com is not known to syncd; sync the sources first",
        f"line 4: user{INACTIVE}@example.com is inactive; only an active person can hold a license",
        "line 5: user46@example.com is on line 2 already; a person holds one license",
        "line 10: user51@example.com: a Permanent Host license beyond the 50 installed",
    ]
    got = site.json("licenses", "import", str(csv), check=65)
    assert (got["reason"], got["imported"], len(got["problems"])) == ("import_invalid", 0, 4)
    assert site.digest() == before          # nothing written, not even a journal row

    # lines that are not holdings: refused whole before the ledger is asked, every line named
    bad = write(site, "syntax.csv", ["user46@example.com,permanent,2026-01-05", "user47@example.com,gold,2026-01-05",
                                     "user48@example.com,permanent,yesterday", "not-an-address,permanent,2026-01-05",
                                     "user49@example.com,permanent,2026-01-05T10:00:00",
                                     "user50@example.com,permanent,2026-01-05,2027-01-01"])
    proc = site.run("licenses", "import", str(bad), check=65)
    for line in ("line 2: user47@example.com: the kind is not one of", "line 3: user48@example.com: assigned_at is "
                 "not a date", "line 4: the first cell is not an e-mail address", "line 5: user49@example.com: "
                 "assigned_at has no UTC offset", "line 6: user50@example.com: a Permanent license does not expire"):
        assert line in proc.stderr
    assert "line 1" not in proc.stderr
    assert site.digest() == before


def test_utf16_with_bom_and_tabs_and_every_kind(site: Site) -> None:
    seeded(site)
    site.run("licenses", "demo", "2", "--expires", "2099-01-01")
    lines = ["email,kind,assigned_at,first_grace_at,expires_at",
             "user1@example.com,permanent,2026-01-05,,",
             "user2@example.com,demonstration,2026-06-01,,",
             " User3@Example.COM ,grace,2026-11-20T08:00:00-05:00,2026-11-15,"]      # the person key is found
    csv = write(site, "holdings.tsv", lines, encoding="utf-16", sep="\t")
    assert csv.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    got = site.json("licenses", "import", str(csv))
    assert got["imported"] == 3
    assert held(site) == {"user1@example.com": "permanent", "user2@example.com": "demonstration",
                          "user3@example.com": "grace"}
    report = site.json("licenses", "report")
    assert (report["in_use"]["permanent"], report["in_use"]["demonstration"], report["in_use"]["grace"]) == (1, 1, 1)
    assert "ledger consistent" in site.run("db", "verify").stdout


def test_dry_run_writes_nothing_and_says_what_would_change(site: Site) -> None:
    seeded(site)
    csv = write(site, "holdings.csv", permanent_rows(range(1, 4)))
    before = site.digest()
    proc = site.run("licenses", "import", "--dry-run", str(csv))
    assert proc.stdout.splitlines() == [
        "would (-): imported 3 licenses (3 Permanent Host): Permanent 3 of 50 in use, free 47",
        "would: user1@example.com: imported a Permanent Host license (line 1)",
        "would: user2@example.com: imported a Permanent Host license (line 2)",
        "would: user3@example.com: imported a Permanent Host license (line 3)",
        "dry run: nothing written",
    ]
    got = site.json("licenses", "import", "--dry-run", str(csv))
    assert (got["dry_run"], got["imported"], len(got["changes"])) == (True, 3, 3)
    assert site.digest() == before
    assert held(site) == {}
