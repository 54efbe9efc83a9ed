"""Safe XML parsing and the AXL namespaces.

Every AXL body, in the connector and in the simulator, is parsed here: DTDs are not loaded, entities are not
resolved, the network is never touched, and a document that carries a DOCTYPE (the vehicle of entity-expansion
and external-entity attacks) is rejected outright rather than parsed with its declarations ignored.

A response is read with :func:`parse_marked`: a CUCM that sends a control character XML 1.0 forbids (a raw ESC
in one user's name) makes the document malformed, and rather than lose the whole read to one user, each such
character is read as :data:`connectors.facts.UNREADABLE`, which the record checks refuse: that user is skipped
and counted, the others are read. The parser stays strict (no recover mode): only those characters are replaced,
and anything else malformed still fails the read.
"""

from __future__ import annotations

import re

from lxml import etree

from connectors.facts import UNREADABLE

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


# A raw C0 control other than TAB, LF and CR, or a character reference (_marked keeps those to allowed characters).
_ILLEGAL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|&#(?:x0*([0-9A-Fa-f]{1,8})|0*([0-9]{1,10}));")
_MARK = UNREADABLE.encode()
_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _legal(code: int) -> bool:
    """Whether XML 1.0 allows character ``code`` (its production ``Char``)."""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _marked(m: re.Match[bytes]) -> bytes:
    hex_digits, digits = m.group(1), m.group(2)
    if hex_digits is None and digits is None:
        return _MARK                                    # a raw control
    code = int(hex_digits, 16) if hex_digits is not None else int(digits)
    return m.group() if _legal(code) else _MARK


def mark_illegal(body: bytes) -> bytes | None:
    """``body`` with every character XML 1.0 forbids (a raw C0 control but TAB, LF and CR, or a character
    reference to any forbidden character, such as ``&#27;``) replaced by UNREADABLE; None when there is none, or when
    the body is not UTF-8 (the only encoding whose bytes the replacement is written in; CUCM sends UTF-8)."""
    if _ascii_compatible(body) is not body:
        return None
    start = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    declared = _ENCODING.match(body, start)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return None
    marked = _ILLEGAL.sub(_marked, body)
    return None if marked == body else marked


def parse_marked(body: bytes) -> etree._Element:
    """:func:`parse_xml`; a body malformed only by characters XML 1.0 forbids is parsed again with each read as
    UNREADABLE (see the module's docstring). The happy path costs nothing: the body is scanned only after a
    failed parse."""
    try:
        return parse_xml(body)
    except UnsafeXmlError:
        raise
    except MalformedXmlError:
        marked = mark_illegal(body)
        if marked is None:
            raise
    return parse_xml(marked)


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
