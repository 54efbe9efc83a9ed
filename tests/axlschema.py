"""Cisco's AXL schema for the tests: read from ``$AXL_SCHEMA_DIR`` (default ``../shared/axl-schema/14.0`` beside
the repository), never copied into it. Missing: the test is skipped, or fails when SYNCD_REQUIRE_AXL_SCHEMA=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def schema_dir() -> Path:
    return Path(os.environ.get("AXL_SCHEMA_DIR") or REPO.parent / "shared" / "axl-schema" / "14.0")


def need_schema_file(name: str) -> Path:
    path = schema_dir() / name
    if not path.is_file():
        msg = f"Cisco's AXL schema not found at {path} (set AXL_SCHEMA_DIR)"
        if os.environ.get("SYNCD_REQUIRE_AXL_SCHEMA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path
