"""Text safe to show on a terminal: values from CUCM, AD, files and API callers are shown, never obeyed.

A value may carry characters that a terminal or a reader obeys instead of showing: C0 controls (ESC starts
an escape sequence that can retitle the window or clear the screen; a newline forges a whole line), DEL, C1
controls (U+0085 is a newline to some readers, U+009B starts a sequence on its own), the bidi controls that
reorder what is shown (U+202E makes ``gpj.exe`` read as ``exe.jpg``) and the line and paragraph separators.
:func:`visible` writes each of them as an escape (``\\x1b``, ``\\n``, ``\\u202e``).

A backslash is always written as ``\\\\``, so that ``\\x1b`` in shown text always means an ESC that was there and
never a value that spelled it out; the shown text reads back to the value exactly, as a Python string
literal's body does. Printable characters of every script, the joiners that some scripts need (U+200C,
U+200D) included, pass unchanged. JSON output is exact and needs none of this: it escapes controls itself.
"""

from __future__ import annotations

import re

_SHOWN_AS_LETTER = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}

_OBEYED = re.compile(
    "[\\\\\x00-\x1f\x7f-\x9f"       # backslash, C0, DEL, C1
    "\u061c\u200e\u200f"           # arabic letter mark, left-to-right and right-to-left marks
    "\u202a-\u202e\u2066-\u2069"   # bidi embeddings, overrides and isolates
    "\u2028\u2029]"                # line and paragraph separators
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHOWN_AS_LETTER:
        return _SHOWN_AS_LETTER[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every character that a terminal would obey, and every backslash, written as an escape."""
    return _OBEYED.sub(_escape, text)
