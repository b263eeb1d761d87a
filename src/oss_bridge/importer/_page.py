"""A published service-standard page (text form) to a ServiceStandard.

The page: a header block (agency, address line, website, breadcrumb), the service name, ``No. SK :``,
then one section per component under its heading (see ``_sections``). The complaint section
repeats the header block, lists numbered rules with the handling stages nested under the rule
that announces them ("... dengan tahapan:"), then ``Kategori Pengaduan :`` bullets,
``Objek Pengaduan : A, B dan/atau C`` and ``Prosedur:`` bullets. The header block may close the
page again. Text is kept as published, white space folded; only list markers are taken off, and
the joining punctuation (``;``, ``; dan``) of short enumerated phrases (stages, categories,
objects, products).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from oss_bridge.domain import ComplaintHandling, Contact, ServiceStandard
from oss_bridge.domain.service_standard import CODE_PATTERN, slugify
from oss_bridge.errors import InputError, PageParseError
from oss_bridge.importer._fields import (
    parse_completion_time,
    parse_fee,
    parse_staff_count,
    split_objects,
    split_products,
)
from oss_bridge.importer._header import (
    BREADCRUMB,
    WEBSITE,
    Header,
    find_phone,
    read_header,
    strip_header_blocks,
)
from oss_bridge.importer._html import html_to_text, looks_like_html
from oss_bridge.importer._sections import (
    COMPLAINT,
    REQUIRED,
    match_complaint_subheading,
    match_heading,
)
from oss_bridge.importer._text import (
    Item,
    Line,
    group_items,
    has_marker,
    page_lines,
    trim_enumeration,
)

_SK = re.compile(r"(?:no\.?|nomor)\s*(?:sk|s\.k\.?)\s*:?\s*(?P<number>.*)", re.IGNORECASE)
# The rule whose nested items are the handling stages: "... dilaksanakan dengan tahapan:".
_STAGES_RULE = re.compile(r"\btahap", re.IGNORECASE)

_LIST_FIELDS = (
    "requirements",
    "procedure",
    "legal_basis",
    "facilities",
    "staff_competence",
    "internal_supervision",
    "performance_evaluation",
)
_PARAGRAPH_FIELDS = ("service_guarantee", "security_guarantee")
_READERS: dict[str, Callable[[list[str]], Any]] = {
    "completion_time": lambda texts: parse_completion_time(" ".join(texts)),
    "fee": lambda texts: parse_fee(" ".join(texts)),
    "staff_count": parse_staff_count,
    "products": split_products,
}


def parse_page(text: str, *, code: str | None = None, source: str = "<page>") -> ServiceStandard:
    """Read one published service-standard page, in text form or HTML, into a ServiceStandard.

    ``code`` becomes the entry's code; without it the code is ``slugify(name)``. ``source`` names
    the page in error messages. Raises ``PageParseError`` naming every required section the page
    lacks or leaves empty (``missing_sections`` holds their published headings) and every field
    it cannot read; ``InputError`` for an unusable ``code``.
    """
    if code is not None and re.fullmatch(CODE_PATTERN, code) is None:
        raise InputError(
            f"code {code!r} is not usable: give 1 to 64 letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    if looks_like_html(text):
        text = html_to_text(text)
    return _Page.read(page_lines(text)).build(code=code, source=source)


@dataclass
class _Page:
    name: str | None
    sk_number: str | None
    header: Header
    # Each section's lines, repeats of the header block taken out.
    sections: dict[str, list[Line]]
    # Sections with content. A complaint section holding only the office's block counts: that
    # block says where to complain.
    filled: set[str]
    repeats: list[Header]

    @classmethod
    def read(cls, lines: list[Line]) -> _Page:
        preamble: list[Line] = []
        sections: dict[str, list[Line]] = {}
        current, current_field = preamble, ""
        for line in lines:
            section = None
            if not line.indented and not has_marker(line):
                section = match_heading(line.text, in_complaint=current_field == COMPLAINT)
            if section is None:
                current.append(line)
            else:
                current_field = section.field
                current = sections.setdefault(section.field, [])
        name, sk_number, header = _read_preamble([line.text for line in preamble])
        repeats: list[Header] = []
        filled: set[str] = set()
        for key, section_lines in sections.items():
            sections[key], found = strip_header_blocks(section_lines, header)
            repeats.extend(found)
            if sections[key] or (key == COMPLAINT and found):
                filled.add(key)
        return cls(name, sk_number, header, sections, filled, repeats)

    def texts(self, key: str) -> list[str]:
        return [text for item in group_items(self.sections.get(key, [])) if (text := item.render())]

    def build(self, *, code: str | None, source: str) -> ServiceStandard:
        problems: list[str] = []
        missing = [s.heading for s in REQUIRED if s.field not in self.sections]
        empty = [
            s.heading for s in REQUIRED if s.field in self.sections and s.field not in self.filled
        ]
        if missing:
            problems.append(
                f"the page lacks {_sections(missing)} (a service-standard page has"
                f" {_names([s.heading for s in REQUIRED])}; check that the whole page was saved)"
            )
        if empty:
            problems.append(
                f"{_sections(empty)} of the page {'is' if len(empty) == 1 else 'are'} empty"
                " (the content under the heading is missing; compare with the page on the site)"
            )
        if not self.name:
            problems.append(
                "cannot find the service name: it is the line after the office header and before"
                " 'No. SK :' and the first section heading"
            )
        agency = self.header.agency or next((r.agency for r in self.repeats if r.agency), None)
        if not agency:
            problems.append(
                "cannot find the agency name: the page should open with the office header"
            )

        values: dict[str, Any] = {}
        for key in self.sections:
            if key not in self.filled:
                continue
            texts = self.texts(key)
            try:
                if key in _READERS:
                    values[key] = _READERS[key](texts)
                elif key in _LIST_FIELDS:
                    values[key] = texts
                elif key in _PARAGRAPH_FIELDS:
                    values[key] = _paragraph(group_items(self.sections[key]))
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise PageParseError(
                f"{source}: {'; '.join(problems)}", missing_sections=tuple(missing + empty)
            )
        values["complaint_handling"] = self._complaint_handling()
        try:
            return ServiceStandard.model_validate(
                {
                    "code": code or slugify(str(self.name)),
                    "name": self.name,
                    "agency": agency,
                    "sk_number": self.sk_number,
                    **values,
                }
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise PageParseError(
                f"{source}: the page was read but its {where!r} is not usable ({first['msg']});"
                " check that section of the page"
            ) from exc

    def _complaint_handling(self) -> ComplaintHandling:
        parts: dict[str, list[Line]] = {
            "rules": [],
            "categories": [],
            "objects": [],
            "procedure": [],
        }
        inline: dict[str, list[str]] = {
            "rules": [],
            "categories": [],
            "objects": [],
            "procedure": [],
        }
        current = "rules"
        for line in self.sections.get(COMPLAINT, []):
            sub = None
            if not line.indented and not has_marker(line):
                sub = match_complaint_subheading(line.text)
            if sub is None:
                parts[current].append(line)
            else:
                current, rest = sub
                if rest:
                    inline[current].append(rest)

        rules: list[str] = []
        stages: list[str] = []
        for item in group_items(parts["rules"]):
            if item.children and not stages and _STAGES_RULE.search(item.text):
                rules.append(item.text)
                stages = [trim_enumeration(child.render()) for child in item.children]
            else:
                rules.append(item.render())

        def phrases(key: str) -> list[str]:
            """Inline after the subheading: split like objects; listed: one phrase an item."""
            found = [phrase for text in inline[key] for phrase in split_objects(text)]
            found += [trim_enumeration(item.render()) for item in group_items(parts[key])]
            return [phrase for phrase in found if phrase]

        procedure = inline["procedure"] + [
            item.render() for item in group_items(parts["procedure"])
        ]
        return ComplaintHandling(
            rules=tuple(rule for rule in rules if rule),
            stages=tuple(stage for stage in stages if stage),
            categories=tuple(phrases("categories")),
            objects=tuple(phrases("objects")),
            procedure=tuple(step for step in procedure if step),
            contact=self._contact(),
        )

    def _contact(self) -> Contact:
        # The top header wins over its repeats: a real page misspells the website in a repeat.
        headers = [self.header, *self.repeats]
        return Contact(
            address=next((h.address for h in headers if h.address), None),
            phone=next((h.phone for h in headers if h.phone), None),
            website=next((h.website for h in headers if h.website), None),
        )


def _read_preamble(lines: list[str]) -> tuple[str | None, str | None, Header]:
    """The service name, SK number and top header, from the lines before the first section.

    The header ends with the breadcrumb (or, without one, with its last website or address
    line); the lines after it, bar ``No. SK :``, are the service name.
    """
    sk_number = None
    rest: list[str] = []
    for text in lines:
        if (found := _SK.fullmatch(text)) is not None and sk_number is None:
            number = found.group("number").strip()
            sk_number = number if re.search(r"\w", number) else None
        else:
            rest.append(text)
    ends = [i for i, text in enumerate(rest) if BREADCRUMB.fullmatch(text)]
    if not ends:
        ends = [i for i, text in enumerate(rest) if WEBSITE.fullmatch(text) or find_phone(text)]
    end = ends[-1] + 1 if ends else max(len(rest) - 1, 0)
    name = " ".join(rest[end:]) or None
    return name, sk_number, read_header(rest[:end])


def _names(headings: list[str]) -> str:
    quoted = [f"'{heading}'" for heading in headings]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _sections(headings: list[str]) -> str:
    return f"the section{'' if len(headings) == 1 else 's'} {_names(headings)}"


def _paragraph(items: list[Item]) -> str:
    """One text for a guarantee: a single paragraph as is, a list one item a line."""
    if len(items) == 1:
        return items[0].render()
    return "\n".join(f"{item.marker} {item.render()}".strip() for item in items)
