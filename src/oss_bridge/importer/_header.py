"""The header block of a page: agency, address line (with postcode and phone), website, and the
``Pemerintah Kab. X / agency`` breadcrumb.

Office sites print this block at the top, again at the start of the complaint section, and again
at the foot of the page. Only the top one is read for content; the repeats are not content and
are taken out of the sections they fall in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oss_bridge.importer._text import Line, fold, has_marker

WEBSITE = re.compile(
    r"(?:(?:website|situs|laman|web)\s*:?\s*)?"
    r"(?P<site>(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/\S*)?)",
    re.IGNORECASE,
)
BREADCRUMB = re.compile(
    r"pemerintah\s+(?:kab\.?|kabupaten|kota|provinsi|prov\.?)\s+[^/]+/.+", re.IGNORECASE
)
_PHONE = re.compile(r"(?<![\w+])(?:\+62[\s.-]?\d|\(0\d{1,4}\)[\s.-]?\d|0\d)(?:[\s.-]?\d)+")
_POSTCODE = re.compile(r"(?<![\w.])\d{5}(?![\w.])")
_PHONE_LABEL = re.compile(
    r"(?:(?:telp|telepon|tlp|tel|hp|wa|whatsapp|phone|fax|faks)\.?\s*[:/]?\s*)+$", re.IGNORECASE
)
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 8, 15


def find_phone(text: str) -> re.Match[str] | None:
    """The first telephone number in a line (Indonesian forms: ``0811...``, ``(0761) 123456``,
    ``+62 ...``), or None."""
    for match in _PHONE.finditer(text):
        digits = sum(char.isdigit() for char in match.group())
        if _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS:
            return match
    return None


def _is_address(text: str) -> bool:
    return find_phone(text) is not None or _POSTCODE.search(text) is not None


@dataclass(frozen=True)
class Header:
    """What a header block says; a part the block lacks is None."""

    agency: str | None = None
    address_line: str | None = None
    website: str | None = None
    breadcrumb: str | None = None

    @property
    def phone(self) -> str | None:
        found = find_phone(self.address_line) if self.address_line else None
        return found.group() if found else None

    @property
    def address(self) -> str | None:
        """The address line without its telephone number (and the number's label)."""
        if self.address_line is None:
            return None
        found = find_phone(self.address_line)
        if found is None:
            return self.address_line
        before = _PHONE_LABEL.sub("", self.address_line[: found.start()])
        return fold(f"{before} {self.address_line[found.end() :]}").strip(" ,;-|/") or None


def read_header(lines: list[str]) -> Header:
    """Read a header block from its lines, in any order.

    The agency is the line just above the address line (or the first unclassified line, or the
    last part of the breadcrumb), so that stray lines above the block do not become the agency.
    """
    website = breadcrumb = address = None
    others: list[str] = []
    others_before_address = 0
    for text in lines:
        if (site := WEBSITE.fullmatch(text)) is not None:
            website = website or site.group("site")
        elif BREADCRUMB.fullmatch(text):
            breadcrumb = breadcrumb or text
        elif address is None and _is_address(text):
            address = text
            others_before_address = len(others)
        else:
            others.append(text)
    if address is not None and others_before_address:
        agency: str | None = others[others_before_address - 1]
    elif others:
        agency = others[0]
    elif breadcrumb is not None:
        agency = breadcrumb.rsplit("/", 1)[-1].strip()
    else:
        agency = None
    return Header(agency, address, website, breadcrumb)


def strip_header_blocks(lines: list[Line], header: Header) -> tuple[list[Line], list[Header]]:
    """The lines with each repeat of the header block taken out, and what each repeat said.

    A repeat is a run of unmarked lines, each the agency, an address line, a website or a
    breadcrumb, that holds the agency or the breadcrumb and at least one other part.
    """

    def part(line: Line) -> str | None:
        if line.indented or has_marker(line):
            return None
        text = line.text
        if header.agency is not None and text.casefold() == header.agency.casefold():
            return "agency"
        if BREADCRUMB.fullmatch(text):
            return "breadcrumb"
        if WEBSITE.fullmatch(text):
            return "website"
        if text == header.address_line or _is_address(text):
            return "address"
        return None

    kept: list[Line] = []
    repeats: list[Header] = []
    run: list[tuple[Line, str]] = []

    def close_run() -> None:
        parts = {kind for _, kind in run}
        if len(parts) >= 2 and parts & {"agency", "breadcrumb"}:
            repeats.append(read_header([line.text for line, _ in run]))
        else:
            kept.extend(line for line, _ in run)
        run.clear()

    for line in lines:
        kind = part(line)
        if kind is None:
            close_run()
            kept.append(line)
        else:
            run.append((line, kind))
    close_run()
    return kept, repeats
