"""XML for the Open311 surface: plain data (dicts, lists, scalars) to the standard's elements.

A dict becomes child elements named by its keys; a list becomes repeated children named by
``item_tags[parent tag]`` (``services`` -> ``service``, ``attributes`` -> ``attribute``); ``None``
an empty element; booleans ``true``/``false``. Text is stripped of the characters XML 1.0
forbids, so whatever a complaint's text holds, the document stays well-formed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, tostring

XML_MEDIA_TYPE = "text/xml; charset=utf-8"
_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ITEM_TAGS: Mapping[str, str] = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def render_xml(root: str, value: Any, item_tags: Mapping[str, str] = ITEM_TAGS) -> bytes:
    """The UTF-8 document whose root element ``root`` holds ``value``."""
    element = _element(root, value, item_tags)
    return (_DECLARATION + tostring(element, encoding="unicode")).encode("utf-8")


def _element(tag: str, value: Any, item_tags: Mapping[str, str]) -> Element:
    element = Element(tag)
    if isinstance(value, Mapping):
        for key, child in value.items():
            element.append(_element(str(key), child, item_tags))
    elif isinstance(value, list | tuple):
        item = item_tags.get(tag)
        if item is None:
            raise ValueError(f"no item element is declared for the list in <{tag}>")
        for child in value:
            element.append(_element(item, child, item_tags))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element
