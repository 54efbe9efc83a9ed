"""How a command prints: JSON with ``--json``, text lines otherwise; errors as one line on stderr.

Every text line and error line goes out through :func:`out` or :func:`fail`, and both pass the whole line
through :func:`syncd.visible.visible`. Escaping here rather than value by value in each renderer is what makes
it hold for every command, present and future: a renderer builds one line from fixed text and values, and no
fixed text has a control or a backslash of its own, so escaping the line leaves the fixed text as it is and
makes every value in it visible. JSON is printed as it is: ``json`` escapes controls itself and the values stay
exact.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from syncd.visible import visible


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def text_lines(lines: list[str], indent: str = "") -> str:
    """The lines as printed: each made visible, so a value can neither leave its line nor command the terminal."""
    return "".join(f"{indent}{visible(line)}\n" for line in lines)


def out(args: argparse.Namespace, obj: Any, text: str | list[str]) -> None:
    """Print ``obj`` as JSON with ``--json``, else the text lines that render it."""
    if args.json:
        print_json(obj)
    else:
        sys.stdout.write(text_lines(text if isinstance(text, list) else [text]))


def fail(message: str) -> None:
    """Print an error as one line: its runs of whitespace (newlines too) become one space, the rest is visible."""
    sys.stderr.write(f"syncd: {visible(' '.join(message.split()))}\n")
