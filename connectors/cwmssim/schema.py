"""The WebEx XML API schema (``user.xsd`` with its imports), used to validate every request's bodyContent.

Read from ``$WEBEX_SCHEMA_DIR`` (default ``../shared/webex-xmlapi-schema`` beside the repository), never copied
into it. A whole request cannot validate as it stands (its ``xsi:type`` is a Java class name, its elements are
unqualified), so, as the reference's section 8 says: the schema is loaded with every local element unqualified
(``elementFormDefault`` rewritten in memory), and the bodyContent's children, stripped of any namespace, are
checked as the content of a wrapper element of the operation's ``use:`` type.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from lxml import etree

from connectors.axl.xml import local

USE = "http://www.webex.com/schemas/2002/06/service/user"
_CHECK = "urn:syncd:cwmssim:check"
TYPES = {"GetUser": "getUser", "LstsummaryUser": "lstsummaryUser", "SetUser": "setUser", "DelUser": "delUser"}
"""Binding class -> the ``use:`` complex type of its bodyContent."""

USER_XSD = Path("service") / "user" / "user.xsd"


def default_dir() -> Path:
    repo = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("WEBEX_SCHEMA_DIR") or repo.parent / "shared" / "webex-xmlapi-schema")


class _Unqualified(etree.Resolver):
    """Serves the schema files with ``elementFormDefault="unqualified"``."""

    def resolve(self, url: str, pubid: str | None, context: object) -> object:
        path = Path(url.removeprefix("file://"))
        if path.suffix != ".xsd" or not path.is_file():
            return None
        doc = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
        doc.getroot().set("elementFormDefault", "unqualified")
        return self.resolve_string(etree.tostring(doc), context, base_url=str(path))


class RequestSchema:
    """The compiled schema; :meth:`problem` checks one operation's bodyContent."""

    def __init__(self, directory: Path) -> None:
        user_xsd = (directory / USER_XSD).resolve()
        elements = "".join(f'<xsd:element name="{t}" type="use:{t}"/>' for t in TYPES.values())
        wrapper = (f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:use="{USE}" '
                   f'targetNamespace="{_CHECK}"><xsd:import namespace="{USE}" schemaLocation="{user_xsd}"/>'
                   f"{elements}</xsd:schema>")
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        parser.resolvers.add(_Unqualified())
        self._schema = etree.XMLSchema(etree.fromstring(wrapper, parser, base_url=str(directory / "check.xsd")))
        self._lock = threading.Lock()

    @classmethod
    def find(cls, directory: Path | None = None) -> RequestSchema | None:
        """The schema in ``directory`` (default :func:`default_dir`), or None when it is not there."""
        directory = directory or default_dir()
        return cls(directory) if (directory / USER_XSD).is_file() else None

    def problem(self, op: str, content: etree._Element) -> str | None:
        """Why ``content`` (a request's bodyContent) is not a valid ``op``, or None when it is."""
        wrapper = etree.Element(f"{{{_CHECK}}}{TYPES[op]}")
        for child in content:
            if isinstance(child.tag, str):
                wrapper.append(_unqualified(child))
        with self._lock:            # the validator's error log is shared: one validation at a time
            if self._schema.validate(wrapper):
                return None
            error = self._schema.error_log.last_error
        return error.message if error is not None else "invalid"


def _unqualified(el: etree._Element) -> etree._Element:
    out = etree.Element(local(el.tag), {local(k): v for k, v in el.attrib.items()})
    out.text, out.tail = el.text, None
    for child in el:
        if isinstance(child.tag, str):
            out.append(_unqualified(child))
    return out
