"""The holdings file of `syncd licenses import` (syncd.licensing.holdings): encodings, separators, the header,
the optional columns, and every bad line named."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime, timedelta, timezone

import pytest

from policy import Holding, LicenseKind
from syncd import errors
from syncd.licensing import holdings

ROWS = "email,kind,assigned_at\na@example.com,permanent,2026-01-05\nB@Example.com ,grace,2026-03-01T10:00:00+01:00\n"
WANT = [Holding(2, "a@example.com", LicenseKind.PERMANENT, datetime(2026, 1, 5, tzinfo=UTC)),
        Holding(3, "b@example.com", LicenseKind.GRACE,
                datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))))]


@pytest.mark.parametrize("data", [
    ROWS.encode(),
    codecs.BOM_UTF8 + ROWS.encode(),
    ROWS.encode("utf-16"),                                  # with its BOM
    codecs.BOM_UTF16_BE + ROWS.encode("utf-16-be"),
    codecs.BOM_UTF16_LE + ROWS.replace(",", "\t").encode("utf-16-le"),
    ROWS.replace("\n", "\r\n").encode(),
])
def test_encodings_and_separators(data: bytes) -> None:
    assert holdings.parse(data) == WANT


def test_no_header_blank_lines_and_optional_columns() -> None:
    got = holdings.parse(b"g@example.com,grace,2026-03-02,2026-03-01\n\n"
                         b"d@example.com,Demonstration,2026-03-02,2026-06-01\n"
                         b"t@example.com,trial,2026-03-02,,2026-04-01\n")
    assert [(h.line, h.person, h.kind, h.first_grace_at, h.expires_at) for h in got] == [
        (1, "g@example.com", LicenseKind.GRACE, datetime(2026, 3, 1, tzinfo=UTC), None),
        (3, "d@example.com", LicenseKind.DEMONSTRATION, None, datetime(2026, 6, 1, tzinfo=UTC)),
        (4, "t@example.com", LicenseKind.TRIAL, None, datetime(2026, 4, 1, tzinfo=UTC)),
    ]


def test_every_bad_line_is_named() -> None:
    data = "\n".join([
        "a@example.com,permanent,2026-01-05",
        "a@example.com",                                        # 2: too few cells
        "nobody,permanent,2026-01-05",                          # 3: not an address
        "b@example.com,gold,2026-01-05",                        # 4: kind
        "c@example.com,permanent,2026-01-05T10:00",             # 5: no offset
        "d@example.com,permanent,2026-01-05,2027-01-01",        # 6: a Permanent does not expire
        "e@example.com,trial,2026-01-05,,2026-01-01",           # 7: expires before assigned
        "f@example.com,grace,2026-01-05,2026-02-01",            # 8: first grace after assigned
        "g@example.com,trial,2026-01-05,2026-01-01,",           # 9: first_grace_at on a Trial
        "h@example.com,grace,0001-01-01",                       # 10: out of range
        "x\x00@example.com,permanent,2026-01-05",               # 11: a control character
        "y" * 400 + "@example.com,permanent,2026-01-05",        # 12: too long, not repeated
    ]).encode()
    with pytest.raises(holdings.HoldingsInvalid) as e:
        holdings.parse(data)
    assert [p.split(":")[0] for p in e.value.problems] == [f"line {n}" for n in range(2, 13)]
    assert e.value.exit_code == errors.UNKNOWN_OR_REFUSED
    assert "y" * 100 not in str(e.value)
    assert "more than" in e.value.problems[-1]


def test_not_text_and_too_many_lines() -> None:
    with pytest.raises(errors.UserError, match="not UTF-8"):
        holdings.parse(b"a@example.com,permanent,2026-01-05\xff\n")
    with pytest.raises(errors.UserError, match="not UTF-16"):
        holdings.parse(codecs.BOM_UTF16_LE + b"a\x00b")
    with pytest.raises(errors.UserError, match="more than 400,000 licenses"):
        holdings.parse(b"x\n" * (holdings.MAX_LINES + 1))
