"""Lines of a published page as the parser sees them: white space tidied, list markers read.

A page in text form has one line per block (a heading, a paragraph, one list item), as a browser
copies it. Nested list items are indented (`` - a. text``); an indented line without a marker
continues the item above it. Nothing else is assumed about line breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["number", "letter", "bullet", "text"]

# Characters that carry no text but defeat str.split(): zero-width space, word joiner, BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))

_BULLET = re.compile(r"^[-•*·–—▪◦○●]\s+")
_NUMBER = re.compile(r"^(\d{1,3})[.)]\s+")
_LETTER = re.compile(r"^([a-zA-Z])[.)]\s+")


def fold(text: str) -> str:
    """Runs of white space become one space; leading and trailing space goes."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Line:
    """One non-empty line of a page: its folded text, and whether it was indented."""

    text: str
    indented: bool


def page_lines(text: str) -> list[Line]:
    """The non-empty lines of a page in text form, in order."""
    lines: list[Line] = []
    for raw in text.translate(_INVISIBLE).splitlines():
        folded = fold(raw)
        if folded:
            lines.append(Line(folded, indented=raw[:1].isspace()))
    return lines


@dataclass(frozen=True)
class Marked:
    """A line split into its list marker and its text."""

    kind: Kind
    marker: str
    text: str
    nested: bool


def read_marker(line: Line) -> Marked:
    """The list marker of a line, if any.

    ``1. 1. text`` (a number typed by hand inside an automatically numbered list) loses the
    repeated number; ``- a. text`` is a nested lettered item, whatever its indentation.
    """
    text = line.text
    if bullet := _BULLET.match(text):
        rest = text[bullet.end() :]
        if inner := _LETTER.match(rest):
            return Marked("letter", inner.group(0).strip(), rest[inner.end() :], nested=True)
        if inner := _NUMBER.match(rest):
            return Marked("number", inner.group(0).strip(), rest[inner.end() :], line.indented)
        return Marked("bullet", "-", rest, line.indented)
    if number := _NUMBER.match(text):
        rest = text[number.end() :]
        repeated = re.match(rf"{number.group(1)}[.)]\s+", rest)
        if repeated:
            rest = rest[repeated.end() :]
        return Marked("number", number.group(0).strip(), rest, line.indented)
    if letter := _LETTER.match(text):
        return Marked("letter", letter.group(0).strip(), text[letter.end() :], line.indented)
    return Marked("text", "", text, line.indented)


def has_marker(line: Line) -> bool:
    return read_marker(line).kind != "text"


@dataclass
class Item:
    """One list item or paragraph of a section, with the items nested under it."""

    kind: Kind
    marker: str
    text: str
    children: list[Item] = field(default_factory=list)

    def render(self) -> str:
        """The item as published: its text, then each nested item with its own marker."""
        parts = [self.text]
        parts.extend(f"{child.marker} {child.render()}" for child in self.children)
        return fold(" ".join(parts))


def group_items(lines: list[Line]) -> list[Item]:
    """Group lines into top-level items.

    A line nests under the item above it when it is indented, or when it is lettered (``a.``)
    under a numbered or bulleted item. An indented line without a marker continues the item
    above it; every other line starts a new item.
    """
    items: list[Item] = []
    last: Item | None = None
    for line in lines:
        marked = read_marker(line)
        if marked.kind == "text" and line.indented and last is not None:
            last.text = f"{last.text} {marked.text}"
            continue
        item = Item(marked.kind, marked.marker, marked.text)
        parent = items[-1] if items else None
        nests = marked.nested or (
            marked.kind == "letter" and parent is not None and parent.kind in ("number", "bullet")
        )
        if parent is not None and nests and marked.kind != "text":
            parent.children.append(item)
        else:
            items.append(item)
        last = item
    return items


def trim_enumeration(text: str) -> str:
    """A phrase without the punctuation that joined it to its list (``;``, ``; dan``, ``.``)."""
    return re.sub(r"\s*(?:[;,]\s*(?:dan/atau|dan|atau)?|\.)\s*$", "", text).strip()
