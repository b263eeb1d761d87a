"""Reading page files: encodings, HTML told from text by content, and files that are no page."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from oss_bridge.data import sample_page_path
from oss_bridge.errors import PageParseError
from oss_bridge.importer import parse_page, parse_page_file, read_page_file

PAGES = Path(__file__).resolve().parents[1] / "data" / "pages"
TEXT = "Persyaratan pada masing – masing sektor, perundang‑undangan: Rp 150.000,-\n"


@pytest.mark.parametrize(
    "encoded",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        TEXT.replace("‑", "-").encode("cp1252"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8 with bom", "cp1252", "utf-16-le", "utf-16-be"],
)
def test_a_page_file_is_read_in_the_encodings_pages_are_saved_in(
    tmp_path: Path, encoded: bytes
) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(encoded)
    assert read_page_file(path).replace("‑", "-") == TEXT.replace("‑", "-")


def test_latin_1_text_is_read_through_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes("Biaya: Rp 0 ­ café".encode("latin-1"))
    assert read_page_file(path) == "Biaya: Rp 0 ­ café"


def test_an_html_page_is_read_in_the_charset_it_declares(tmp_path: Path) -> None:
    html = '<html><head><meta charset="koi8-r"></head><body><p>Дасар</p></body></html>'
    path = tmp_path / "page.html"
    path.write_bytes(html.encode("koi8-r"))
    assert "Дасар" in read_page_file(path)


def test_a_file_in_no_known_encoding_is_refused_saying_to_save_it_as_utf_8(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(b"Persyaratan \x81\x8d\x90")
    with pytest.raises(
        PageParseError, match=r"cannot decode '.*page\.txt'.*save the page again as UTF-8"
    ):
        read_page_file(path)


def test_a_file_with_control_characters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(b"Persyaratan\x00\x01\x02")
    with pytest.raises(PageParseError, match="cannot decode"):
        read_page_file(path)


@pytest.mark.parametrize(
    ("start", "kind"),
    [
        (b"%PDF-1.7\n", "a PDF document"),
        (b"PK\x03\x04\x14\x00", "a zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "an old Office document"),
    ],
)
def test_a_document_that_is_not_a_page_is_refused_saying_what_it_is(
    tmp_path: Path, start: bytes, kind: str
) -> None:
    path = tmp_path / "standar.pdf"
    path.write_bytes(start + b"\x00" * 32)
    with pytest.raises(PageParseError, match=f"is {kind}.*, not a page"):
        read_page_file(path)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.txt"
    with pytest.raises(PageParseError, match=r"cannot read the page file '.*absent\.txt'"):
        read_page_file(path)


def test_a_directory_is_refused_as_a_page_file(tmp_path: Path) -> None:
    with pytest.raises(PageParseError, match="cannot read the page file"):
        read_page_file(tmp_path)


def test_html_is_told_from_text_by_content_not_by_file_name(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes((PAGES / "standar-pelayanan-job-portal.html").read_bytes())
    assert parse_page_file(path) == parse_page_file(sample_page_path())


def test_a_page_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "no-fee.txt"
    text = sample_page_path().read_text(encoding="utf-8")
    path.write_text(text.replace("Biaya / Tarif\n", ""), encoding="utf-8")
    with pytest.raises(PageParseError, match=r"no-fee\.txt: "):
        parse_page_file(path)


def test_a_page_file_and_its_text_give_the_same_service_standard() -> None:
    path = sample_page_path()
    assert parse_page_file(path, code="x") == parse_page(path.read_text(encoding="utf-8"), code="x")
