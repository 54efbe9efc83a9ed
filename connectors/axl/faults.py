"""SOAP faults as AXL sends them, and how the connector classifies them.

A fault looks like ``<soapenv:Fault><faultcode/><faultstring/><detail><axlError><axlcode/><axlmessage/>
<request/></axlError></detail></soapenv:Fault>``; ``axlError`` may be unqualified or carry any namespace prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .xml import local

TOO_LARGE_RE = re.compile(r"(?i)query request too large")
MEMORY_RE = re.compile(r"(?i)maximum axl memory allocation consumed")


@dataclass(frozen=True, slots=True)
class Fault:
    """What a SOAP Fault said. ``axlcode`` is None when the fault carried no ``axlError``."""

    faultstring: str
    axlcode: int | None = None
    axlmessage: str | None = None
    request: str | None = None

    @property
    def message(self) -> str:
        text = " ".join((self.axlmessage or "").split()) or " ".join(self.faultstring.split())   # one line
        return text or "unknown fault"      # a message of whitespace alone (U+0085 is whitespace) says nothing

    @property
    def too_large(self) -> bool:
        return bool(TOO_LARGE_RE.search(self.message))

    @property
    def memory(self) -> bool:
        return bool(MEMORY_RE.search(self.message))


def parse_fault(fault: etree._Element) -> Fault:
    """Read a ``soapenv:Fault`` element (namespace-agnostic for ``axlError`` and its children)."""
    faultstring = ""
    axl: etree._Element | None = None
    for child in fault:
        if not isinstance(child.tag, str):
            continue
        name = local(child.tag)
        if name == "faultstring":
            faultstring = child.text or ""
        elif name == "detail":
            axl = next((d for d in child.iter() if isinstance(d.tag, str) and local(d.tag) == "axlError"), None)
    if axl is None:
        return Fault(faultstring=faultstring)
    fields = {local(c.tag): (c.text or "") for c in axl if isinstance(c.tag, str)}
    try:
        code: int | None = int(fields.get("axlcode", "").strip())
    except ValueError:
        code = None
    return Fault(faultstring, code, fields.get("axlmessage"), fields.get("request"))
