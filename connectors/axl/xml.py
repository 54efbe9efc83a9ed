"""Safe XML parsing and the AXL namespaces.

Every AXL body, in the connector and in the simulator, is parsed here: DTDs are not loaded, entities are not
resolved, the network is never touched, and a document that carries a DOCTYPE (the vehicle of entity-expansion
and external-entity attacks) is rejected outright rather than parsed with its declarations ignored.
"""

from __future__ import annotations

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = "http://www.cisco.com/AXLAPIService/"
BINDING = f"{{{SERVICE_NS}}}AXLAPIBinding"
_ENV_BODY = f"{{{SOAP_ENV}}}Body"
_ENV_FAULT = f"{{{SOAP_ENV}}}Fault"


class MalformedXmlError(ValueError):
    """The body is not well-formed XML, or not a SOAP envelope."""


class UnsafeXmlError(MalformedXmlError):
    """The document carries a DOCTYPE (DTD, entity declarations): refused, never expanded."""


def axl_ns(version: str) -> str:
    return f"http://www.cisco.com/AXL/API/{version}"


def soap_action(version: str, op: str) -> str:
    return f'"CUCM:DB ver={version} {op}"'


def safe_parser() -> etree.XMLParser:
    """A fresh parser (lxml parsers are not safe to share between threads)."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_blank_text=False,
    )


# Encodings whose bytes do not spell ASCII markup as ASCII: told by a byte-order mark (dropped before decoding),
# else by how the first "<" is encoded.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"),
              (b"\xfe\xff", "utf-16-be"))
_WIDE_STARTS = ((b"<\x00\x00\x00", "utf-32-le"), (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00", "utf-16-le"),
                (b"\x00<", "utf-16-be"))


def _ascii_compatible(body: bytes) -> bytes:
    """``body`` itself, or re-encoded as UTF-8 when it is UTF-16 or UTF-32 (which the prolog scan cannot read)."""
    for mark, codec in _WIDE_BOMS:
        if body.startswith(mark):
            return body[len(mark):].decode(codec, "replace").encode("utf-8")
    for start, codec in _WIDE_STARTS:
        if body.startswith(start):
            return body.decode(codec, "replace").encode("utf-8")
    return body


def has_doctype(body: bytes) -> bool:
    """True when a DOCTYPE stands in the prolog (after the XML declaration, comments and PIs), where it must be.

    A scan of the prolog only: it never looks past the start of the root element, however large the body.
    A UTF-16 or UTF-32 body is transcoded first, so that a DOCTYPE in a wide encoding is seen too.
    """
    body = _ascii_compatible(body)
    i, n = (3 if body.startswith(b"\xef\xbb\xbf") else 0), len(body)
    while True:
        while i < n and body[i] in b" \t\r\n":
            i += 1
        if body.startswith(b"<?", i):
            end, step = body.find(b"?>", i), 2
        elif body.startswith(b"<!--", i):
            end, step = body.find(b"-->", i), 3
        else:
            return body.startswith(b"<!DOCTYPE", i)
        if end < 0:
            return False
        i = end + step


def parse_xml(body: bytes) -> etree._Element:
    """Parse ``body`` safely; raise :class:`UnsafeXmlError` on a DOCTYPE, :class:`MalformedXmlError` otherwise.

    The DOCTYPE is looked for before parsing: libxml2 still walks entity declarations (and may fail on their
    amplification) even when it does not resolve them, and such a response must read as refused, not as noise.
    """
    if has_doctype(body):
        raise UnsafeXmlError("XML with a DOCTYPE (DTD or entity declarations) refused")
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as e:
        raise MalformedXmlError(f"malformed XML: {e}") from None
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnsafeXmlError("XML with a DOCTYPE (DTD or entity declarations) refused")
    return root


def soap_payload(root: etree._Element) -> etree._Element:
    """The first child of the SOAP Body (the operation, its response, or a Fault)."""
    body = root.find(_ENV_BODY)
    if body is None or len(body) == 0:
        raise MalformedXmlError("not a SOAP envelope: no Body content")
    return body[0]


def is_fault(el: etree._Element) -> bool:
    return el.tag == _ENV_FAULT


def local(tag: str) -> str:
    """Local name of a Clark-notation tag."""
    return tag.rsplit("}", 1)[-1]
