"""The ``[cwms]`` options model (DESIGN.md section 12): its keys, defaults and refusals."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.cwms.options import CwmsOptions

BASE: dict[str, Any] = {"url": "https://cwms.example.com/WBXService/XMLService", "site_name": "meet",
                        "username": "admin", "password_env": "CWMS_PASSWORD"}


def test_defaults() -> None:
    opts = CwmsOptions(**BASE)
    assert (opts.page_size, opts.push, opts.push_activations, opts.max_pushes, opts.insecure) == (
        500, "off", False, None, False)
    assert opts.with_password("pw").secret() == "pw"
    assert "pw" not in repr(opts.with_password("pw"))


@pytest.mark.parametrize(("change", "message"), [
    ({"page_size": 501}, "less than or equal to 500"),
    ({"page_size": 0}, "greater than or equal to 1"),
    ({"password": "x"}, "set exactly one of"),
    ({"password_env": None}, "set exactly one of"),
    ({"url": "http://cwms.example.com/WBXService/XMLService"}, "clear text"),
    ({"url": "ftp://cwms/"}, "not an XML API URL"),
    ({"push": "yes"}, "'off', 'report' or 'on'"),
    ({"name": "cwms"}, "Extra inputs are not permitted"),
])
def test_refusals(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CwmsOptions(**{**BASE, **change})
