"""The section headings of a service-standard page and the spellings offices use for them.

Fourteen components (Permenpan RB 15/2014): six of service delivery, which every page must
have, and eight of management, which most pages leave out. A heading is a line of its own; it is
matched case-insensitively, ignoring a trailing colon and the spacing around ``/`` and ``,``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMPLAINT = "complaint_handling"


@dataclass(frozen=True)
class Section:
    """A heading: the ServiceStandard field it fills, its usual published spelling, spellings."""

    field: str
    heading: str
    pattern: re.Pattern[str]
    required: bool


def _section(field: str, heading: str, pattern: str, *, required: bool) -> Section:
    return Section(field, heading, re.compile(pattern), required)


SECTIONS: tuple[Section, ...] = (
    _section(
        "requirements",
        "Persyaratan",
        r"persyaratan(?: (?:pelayanan|layanan|administrasi))?",
        required=True,
    ),
    _section(
        "procedure",
        "Sistem, Mekanisme dan Prosedur",
        r"(?:sistem,? )?mekanisme,? (?:dan )?prosedur(?: (?:pelayanan|layanan))?"
        r"|(?:prosedur|alur) (?:pelayanan|layanan)",
        required=True,
    ),
    _section(
        "completion_time",
        "Waktu Penyelesaian",
        r"(?:jangka )?waktu (?:penyelesaian|pelayanan)(?: (?:pelayanan|layanan))?",
        required=True,
    ),
    _section(
        "fee",
        "Biaya / Tarif",
        r"(?:biaya|tarif)(?:/(?:biaya|tarif))?(?: (?:pelayanan|layanan))?",
        required=True,
    ),
    _section(
        "products",
        "Produk Pelayanan",
        r"produk(?: (?:pelayanan|layanan))?|hasil (?:pelayanan|layanan)",
        required=True,
    ),
    _section(
        COMPLAINT,
        "Pengaduan Layanan",
        r"(?:(?:penanganan|pengelolaan) )?pengaduan(?:, saran,? (?:dan )?masukan)?"
        r"(?: (?:layanan|pelayanan))?",
        required=True,
    ),
    _section("legal_basis", "Dasar Hukum", r"dasar hukum", required=False),
    _section(
        "facilities",
        "Sarana dan Prasarana",
        r"sarana,? (?:dan )?prasarana(?:(?:, | dan/atau | dan |, dan/atau |/)fasilitas)?"
        r"|fasilitas(?: (?:pelayanan|layanan))?",
        required=False,
    ),
    _section(
        "staff_competence",
        "Kompetensi Pelaksana",
        r"kompetensi pelaksana(?: (?:pelayanan|layanan))?",
        required=False,
    ),
    _section("internal_supervision", "Pengawasan Internal", r"pengawasan internal", required=False),
    _section(
        "staff_count",
        "Jumlah Pelaksana",
        r"jumlah pelaksana(?: (?:pelayanan|layanan))?",
        required=False,
    ),
    _section(
        "service_guarantee", "Jaminan Pelayanan", r"jaminan (?:pelayanan|layanan)", required=False
    ),
    _section(
        "security_guarantee",
        "Jaminan Keamanan dan Keselamatan Pelayanan",
        r"jaminan keamanan,? (?:dan )?keselamatan(?: (?:pelayanan|layanan))?",
        required=False,
    ),
    _section(
        "performance_evaluation",
        "Evaluasi Kinerja Pelaksana",
        r"evaluasi kinerja(?: pelaksana)?(?: (?:pelayanan|layanan))?",
        required=False,
    ),
)

REQUIRED: tuple[Section, ...] = tuple(section for section in SECTIONS if section.required)
BY_FIELD: dict[str, Section] = {section.field: section for section in SECTIONS}

# Inside the complaint section, "Prosedur" introduces the complaint procedure; elsewhere it is the
# service's own procedure, published under its short name.
_BARE_PROCEDURE = "prosedur"


def heading_key(text: str) -> str:
    """A heading line reduced to the form the patterns match."""
    key = " ".join(text.split()).casefold().rstrip(":").strip()
    key = re.sub(r"\s*/\s*", "/", key)
    key = re.sub(r"\s*,\s*", ", ", key)
    return re.sub(r"\s*&\s*", " dan ", key)


def match_heading(text: str, *, in_complaint: bool) -> Section | None:
    """The section a line opens, or None if it is not a section heading."""
    key = heading_key(text)
    if key == _BARE_PROCEDURE:
        return None if in_complaint else BY_FIELD["procedure"]
    for section in SECTIONS:
        if section.pattern.fullmatch(key):
            return section
    return None


_SUBSECTIONS: tuple[tuple[str, str], ...] = (
    ("categories", r"kategori(?: pengaduan)?"),
    ("objects", r"ob[jy]ek(?: pengaduan)?"),
    ("procedure", r"(?:prosedur|mekanisme|tata cara)(?: (?:penyampaian |penanganan )?pengaduan)?"),
)
_SUBHEADING = re.compile("|".join(rf"(?P<{name}>{pattern})" for name, pattern in _SUBSECTIONS))


def match_complaint_subheading(text: str) -> tuple[str, str] | None:
    """``Kategori Pengaduan :``, ``Objek Pengaduan : A, B`` or ``Prosedur:`` inside the
    complaint section: the part it opens and any text after its colon."""
    label, _, rest = text.partition(":")
    key = " ".join(label.split()).casefold()
    match = _SUBHEADING.fullmatch(key)
    if match is None or match.lastgroup is None:
        return None
    return match.lastgroup, rest.strip()
