"""HTML pages to the text form the page parser reads, with the standard library's parser.

The text form is what a browser copies from the page: one line per block element, ``N. `` before
the items of an ordered list, ``- `` before those of an unordered one, nested items indented as
`` - a. text`` (ordered) or `` - text`` (unordered), and a ``<br>`` inside an item continuing it
on an indented line. Scripts, styles, the document head, navigation and the site footer are not
page content and are dropped; character references are decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from oss_bridge.importer._text import fold

_DROPPED = frozenset(
    {"script", "style", "head", "title", "noscript", "template", "svg", "nav", "footer", "iframe"}
)
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "legend", "main", "p", "pre",
        "section", "summary", "table", "tbody", "tfoot", "thead", "tr",
    }
)  # fmt: skip
_LISTS = frozenset({"ol", "ul", "menu"})
_CELLS = frozenset({"td", "th"})

_HTML_SIGNS = re.compile(
    r"<(?:!doctype\s+html|html|head|body|div|p|h[1-6]|ol|ul|li|br|table|span|section|article|main)\b[^>]*>",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """True when the text holds HTML markup rather than a page already in text form."""
    return _HTML_SIGNS.search(text) is not None


@dataclass
class _List:
    ordered: bool
    style: str
    next_number: int


def _label(number: int, style: str) -> str:
    if style in ("a", "A") and 1 <= number <= 26:
        letter = chr(ord("a") + number - 1)
        return letter.upper() if style == "A" else letter
    if style in ("i", "I") and 1 <= number <= 3999:
        roman = _roman(number)
        return roman if style == "I" else roman.lower()
    return str(number)


def _roman(number: int) -> str:
    digits = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]  # fmt: skip
    out = []
    for value, symbol in digits:
        count, number = divmod(number, value)
        out.append(symbol * count)
    return "".join(out)


class _PageText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buffer: list[str] = []
        self._skipping: list[str] = []
        self._lists: list[_List] = []
        # Indentation that continues each open <li>, innermost last.
        self._items: list[str] = []
        self._prefix = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            # A page may leave <head> unclosed; its end is implied where the body starts.
            self._skipping.clear()
        if self._skipping or tag in _DROPPED:
            if tag in _DROPPED:
                self._skipping.append(tag)
            return
        if tag == "br":
            self._flush()
        elif tag in _LISTS:
            self._flush()
            self._open_list(tag, dict(attrs))
        elif tag == "li":
            self._flush()
            self._open_item(dict(attrs))
        elif tag in _CELLS:
            self._buffer.append(" ")
        elif tag in _BLOCKS:
            self._block()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skipping:
            self._flush()
        elif tag not in _DROPPED:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag in _LISTS:
            self._flush()
            if self._lists:
                self._lists.pop()
            if not self._lists:
                self.lines.append("")
        elif tag == "li":
            self._flush()
            if self._items:
                self._items.pop()
            self._prefix = self._continuation()
        elif tag in _CELLS:
            self._buffer.append(" ")
        elif tag in _BLOCKS:
            self._block()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _open_list(self, tag: str, attrs: dict[str, str | None]) -> None:
        ordered = tag == "ol"
        default_style = "1" if not self._lists else "a"
        style = (attrs.get("type") or default_style).strip() or default_style
        start = attrs.get("start")
        first = int(start) if start and start.strip().isdigit() else 1
        self._lists.append(_List(ordered, style, first))

    def _open_item(self, attrs: dict[str, str | None]) -> None:
        depth = max(len(self._lists) - 1, 0)
        current = self._lists[-1] if self._lists else _List(False, "1", 1)
        if current.ordered:
            value = attrs.get("value")
            if value and value.strip().isdigit():
                current.next_number = int(value)
            label = _label(current.next_number, current.style) + ". "
            current.next_number += 1
        else:
            label = ""
        self._prefix = (label or "- ") if depth == 0 else " " * depth + "- " + label
        self._items.append(" " * (depth + 1))

    def _continuation(self) -> str:
        return self._items[-1] if self._items else ""

    def _block(self) -> None:
        self._flush()
        if not self._items and self.lines and self.lines[-1]:
            self.lines.append("")

    def _flush(self) -> None:
        text = fold("".join(self._buffer))
        self._buffer.clear()
        if text:
            self.lines.append(self._prefix + text)
            self._prefix = self._continuation()


def html_to_text(html: str) -> str:
    """The page in text form: one line per block, lists marked, markup and scripts gone."""
    parser = _PageText()
    parser.feed(html)
    parser.close()
    text = "\n".join(parser.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
