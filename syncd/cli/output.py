"""How a command prints: JSON with ``--json``, text lines otherwise; errors as one line on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def out(args: argparse.Namespace, obj: Any, text: str | list[str]) -> None:
    """Print ``obj`` as JSON with ``--json``, else the text lines that render it."""
    if args.json:
        print_json(obj)
    else:
        lines = text if isinstance(text, list) else [text]
        sys.stdout.write("".join(line + "\n" for line in lines))


def fail(message: str) -> None:
    line = " ".join(message.split())
    sys.stderr.write(f"syncd: {line}\n")
