"""What a test needs from the machine beyond its own files: skip without it, or fail where CI says it is there.

A skipped test in CI would pass untested; each requirement has a ``SYNCD_REQUIRE_*`` variable that `.ci/run` sets.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str, require: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it when the environment variable ``require`` is "1"."""
    if os.environ.get(require) == "1":
        pytest.fail(f"{reason}, and {require}=1 says it must be possible here", pytrace=False)
    pytest.skip(reason)
