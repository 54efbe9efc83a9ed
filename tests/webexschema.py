"""The WebEx XML API schema for the tests: read from ``$WEBEX_SCHEMA_DIR`` (default ``../shared/webex-xmlapi-schema``
beside the repository), never copied into it. Missing: the test is skipped, or fails when
SYNCD_REQUIRE_WEBEX_SCHEMA=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def schema_dir() -> Path:
    return Path(os.environ.get("WEBEX_SCHEMA_DIR") or REPO.parent / "shared" / "webex-xmlapi-schema")


def need_schema_dir() -> Path:
    path = schema_dir()
    if not (path / "service" / "user" / "user.xsd").is_file():
        msg = f"the WebEx XML API schema not found at {path} (set WEBEX_SCHEMA_DIR)"
        if os.environ.get("SYNCD_REQUIRE_WEBEX_SCHEMA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path
