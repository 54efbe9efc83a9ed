"""The WebEx XML API as CWMS speaks it (``shared/reference/cwms-xmlapi.md``): namespaces, the request document and
the response envelope. The client builds its requests here; the simulator shares only the names.

Requests follow the working clients (reference section 2): ``serv`` and ``xsi`` declared on the root, ``header``,
``body``, ``securityContext``, ``bodyContent`` and the operation's children unqualified, ``xsi:type`` naming the Java
binding class. Responses are read by namespace and local name, never by prefix, and parsed with
:func:`connectors.axl.xml.parse_xml` (DTDs and entities refused).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from connectors.axl.xml import MalformedXmlError, local, parse_xml

SERV = "http://www.webex.com/schemas/2002/06/service"
COM = "http://www.webex.com/schemas/2002/06/common"
USE = "http://www.webex.com/schemas/2002/06/service/user"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
BINDING = "java:com.webex.service.binding.user."
"""``xsi:type`` of a request's bodyContent: this plus the operation's class name (``GetUser``)."""

ACTIVE_VALUES = ("ACTIVATED", "REQUEST_TO_ACTIVATE", "DEACTIVATED")

# A child element: (local name, text) or (local name, children).
Child = tuple[str, "str | Iterable[Child]"]


def _append(parent: etree._Element, children: Iterable[Child]) -> None:
    for name, value in children:
        el = etree.SubElement(parent, name)
        if isinstance(value, str):
            el.text = value
        else:
            _append(el, value)


def request_document(op: str, *, webex_id: str, password: str, site_name: str,
                     children: Iterable[Child] = ()) -> bytes:
    """One request: ``op`` is the binding class (``GetUser``, ``LstsummaryUser``, ``SetUser``); ``children`` the
    bodyContent's content in XSD order. lxml escapes every value; no DOCTYPE is ever written."""
    root = etree.Element(f"{{{SERV}}}message", nsmap={"serv": SERV, "xsi": XSI})
    header = etree.SubElement(root, "header")
    _append(header, [("securityContext", [("webExID", webex_id), ("password", password),
                                           ("siteName", site_name)])])
    body = etree.SubElement(root, "body")
    content = etree.SubElement(body, "bodyContent", {XSI_TYPE: BINDING + op})
    _append(content, children)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True, slots=True)
class Response:
    """What one response said. ``content`` is ``serv:bodyContent`` (empty on FAILURE)."""

    result: str                     # SUCCESS or FAILURE
    reason: str | None
    exception_id: str | None
    gsb_status: str | None
    content: etree._Element

    @property
    def ok(self) -> bool:
        return self.result == "SUCCESS"


def _serv(parent: etree._Element, name: str) -> etree._Element | None:
    return parent.find(f"{{{SERV}}}{name}")


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return " ".join(el.text.split()) or None


def parse_response(body: bytes) -> Response:
    """Read a response document; :class:`MalformedXmlError` (or its ``UnsafeXmlError``) when it is not one."""
    root = parse_xml(body)
    if root.tag != f"{{{SERV}}}message":
        raise MalformedXmlError(f"not an XML API response: root element {local(str(root.tag))!r}")
    header, msg_body = _serv(root, "header"), _serv(root, "body")
    response = _serv(header, "response") if header is not None else None
    result = _text(_serv(response, "result")) if response is not None else None
    if response is None or result not in ("SUCCESS", "FAILURE"):
        raise MalformedXmlError("not an XML API response: no header/response/result SUCCESS or FAILURE")
    content = _serv(msg_body, "bodyContent") if msg_body is not None else None
    if content is None:
        raise MalformedXmlError("not an XML API response: no body/bodyContent")
    return Response(result, _text(_serv(response, "reason")), _text(_serv(response, "exceptionID")),
                    _text(_serv(response, "gsbStatus")), content)


def child_text(parent: etree._Element, name: str, ns: str = USE) -> str | None:
    """The text of ``parent``'s child ``{ns}name``, whitespace-trimmed; None when absent or empty."""
    el = parent.find(f"{{{ns}}}{name}")
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


# Every user of a LstsummaryUser page as one line of tab-separated fields (``ROW_FIELDS``), written by libxslt: a
# site's full read is hundreds of thousands of users, and one line each costs a fraction of walking their elements
# in Python. A tab, newline or CR inside a webExId or an e-mail could not be split back, so such a user's line
# says so in its last field ("0") and syncd never matches it; in names they become spaces.
ROW_FIELDS = ("webExId", "email", "active", "firstName", "lastName")
_BAD = "&#9;&#10;&#13;"
_ROWS = etree.XSLT(etree.XML(f"""\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:use="{USE}">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:template match="/">
    <xsl:for-each select="//use:user">
      <xsl:value-of select="translate(use:webExId, '{_BAD}', '   ')"/><xsl:text>&#9;</xsl:text>
      <xsl:value-of select="translate(use:email, '{_BAD}', '   ')"/><xsl:text>&#9;</xsl:text>
      <xsl:value-of select="translate(use:active, '{_BAD}', '   ')"/><xsl:text>&#9;</xsl:text>
      <xsl:value-of select="normalize-space(use:firstName)"/><xsl:text>&#9;</xsl:text>
      <xsl:value-of select="normalize-space(use:lastName)"/><xsl:text>&#9;</xsl:text>
      <xsl:variable name="keys" select="concat(use:webExId, use:email)"/>
      <xsl:choose>
        <xsl:when test="translate($keys, '{_BAD}', '') = $keys">1</xsl:when>
        <xsl:otherwise>0</xsl:otherwise>
      </xsl:choose>
      <xsl:text>&#10;</xsl:text>
    </xsl:for-each>
  </xsl:template>
</xsl:stylesheet>""".encode()))


def user_rows(content: etree._Element) -> list[str]:
    """The users of a list response's ``bodyContent``, one line each (``ROW_FIELDS`` and the split-back flag)."""
    text = str(_ROWS(content))
    return text.split("\n")[:-1] if text else []
