"""Text made visible for a terminal: every control, bidi control and separator escaped, a backslash doubled,
everything printable unchanged."""

from __future__ import annotations

import pytest

from syncd.cli.output import fail
from syncd.visible import visible


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[2J", r"\x1b[2J"),                 # C0: ESC
    ("\x00\x07\x1f", r"\x00\x07\x1f"),
    ("a\nb\rc\td", r"a\nb\rc\td"),           # a value stays on its line
    ("\x7f", r"\x7f"),                       # DEL
    ("\x85\x9b\x80\x9f", r"\x85\x9b\x80\x9f"),   # C1: NEL, CSI and the ends of the range
    ("gpj\u202eexe", r"gpj\u202eexe"),       # bidi override
    ("\u202a\u202b\u202c\u202d", r"\u202a\u202b\u202c\u202d"),
    ("\u2066\u2067\u2068\u2069", r"\u2066\u2067\u2068\u2069"),
    ("\u200e\u200f\u061c", r"\u200e\u200f\u061c"),
    ("\u2028\u2029", r"\u2028\u2029"),       # line and paragraph separators
    ("a\\b", r"a\\b"),                       # a backslash is doubled ...
    ("\\x1b", r"\\x1b"),                     # ... so a spelled-out escape never reads as a real one
])
def test_what_a_terminal_would_obey_is_escaped(raw: str, shown: str):
    assert visible(raw) == shown


@pytest.mark.parametrize("text", [
    "user7@example.com: active; managed local",
    "Müller Ødegård Ζωή Иван 王秀英 محمد יוסף नमस्ते",
    "می\u200cخواهم",                          # ZWNJ, which Persian writing needs
    "👩\u200d💻 ~!@#$%^&*()[]{}|;:'\",.<>/?",
    "",
])
def test_printable_text_is_unchanged(text: str):
    assert visible(text) == text


def test_the_shown_text_reads_back_to_the_value():
    raw = "a\\x1b\x1b\\\n\u202e\\u202e\\"
    assert visible(raw).encode().decode("unicode_escape") == raw


def test_an_error_is_one_visible_line(capsys):
    fail("unknown person evil\x1b[2J\u202e@example.com\ncli:root admin@example.com: purchased 999 licenses")
    err = capsys.readouterr().err
    assert err == (r"syncd: unknown person evil\x1b[2J\u202e@example.com cli:root admin@example.com: "
                   "purchased 999 licenses\n")
