"""HTML pages become the text form the page parser reads."""

from __future__ import annotations

import pytest

from oss_bridge.importer import html_to_text, looks_like_html


def lines(html: str) -> list[str]:
    return [line for line in html_to_text(html).splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<ol><li>satu</li><li>dua</li></ol>", ["1. satu", "2. dua"]),
        ("<ul><li>satu</li><li>dua</li></ul>", ["- satu", "- dua"]),
        ('<ol start="3"><li>tiga</li><li>empat</li></ol>', ["3. tiga", "4. empat"]),
        ('<ol type="A"><li>satu</li></ol>', ["A. satu"]),
        ('<ol><li value="7">tujuh</li><li>delapan</li></ol>', ["7. tujuh", "8. delapan"]),
        (
            "<ol><li>tahapan:<ol><li>terima;</li><li>periksa.</li></ol></li><li>durasi</li></ol>",
            ["1. tahapan:", " - a. terima;", " - b. periksa.", "2. durasi"],
        ),
        (
            "<ol><li>saluran:<ul><li>loket</li><li>surel</li></ul></li></ol>",
            ["1. saluran:", " - loket", " - surel"],
        ),
        (
            "<ul><li>a<ol><li>b<ol><li>c</li></ol></li></ol></li></ul>",
            ["- a", " - a. b", "  - a. c"],
        ),
    ],
)
def test_lists_become_marked_lines(html: str, expected: list[str]) -> None:
    assert lines(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<h3>Persyaratan</h3><p>KTP</p>", ["Persyaratan", "KTP"]),
        (
            "<div><div>Waktu Penyelesaian</div><div>5 Hari</div></div>",
            ["Waktu Penyelesaian", "5 Hari"],
        ),
        ("<p>Alamat<br>Situs<br/>Telepon</p>", ["Alamat", "Situs", "Telepon"]),
        ("<p><b>No. SK</b> :</p>", ["No. SK :"]),
        ("<p>  banyak \n\t  spasi  </p>", ["banyak spasi"]),
        ("<table><tr><td>Komputer</td><td>5 unit</td></tr></table>", ["Komputer 5 unit"]),
    ],
)
def test_block_elements_and_line_breaks_become_lines(html: str, expected: list[str]) -> None:
    assert lines(html) == expected


def test_a_line_break_inside_a_list_item_continues_it_on_an_indented_line() -> None:
    assert html_to_text("<ol><li>awal<br>lanjutan</li></ol>").splitlines()[:2] == [
        "1. awal",
        " lanjutan",
    ]


@pytest.mark.parametrize(
    "html",
    [
        "<script>var x = '<p>bukan</p>';</script><p>isi</p>",
        "<style>p { color: red; }</style><p>isi</p>",
        "<head><title>judul</title></head><body><p>isi</p></body>",
        "<head><title>judul</title><body><p>isi</p></body>",
        "<nav><ul><li>Beranda</li></ul></nav><p>isi</p>",
        "<p>isi</p><footer>&copy; 2024</footer>",
        "<noscript>aktifkan JavaScript</noscript><p>isi</p><svg><text>ikon</text></svg>",
    ],
)
def test_scripts_styles_head_navigation_and_footer_are_not_content(html: str) -> None:
    assert lines(html) == ["isi"]


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>masing &ndash; masing</p>", "masing – masing"),
        ("<p>perundang&#45;undangan</p>", "perundang-undangan"),
        ("<p>5&nbsp;Hari</p>", "5 Hari"),
        ("<p>Sarana &amp; Prasarana</p>", "Sarana & Prasarana"),
        ("<p>&#x52;p 0</p>", "Rp 0"),
    ],
)
def test_character_references_are_decoded(html: str, text: str) -> None:
    assert lines(html) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><html><body>x</body></html>",
        "<div>Persyaratan</div>",
        "Persyaratan<br>KTP",
        "<P CLASS='x'>Biaya</P>",
    ],
)
def test_markup_is_recognised_as_html(text: str) -> None:
    assert looks_like_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "Persyaratan\n\n1. KTP\n",
        "Biaya < Rp 10.000 dan > Rp 0",
        "surel <pengaduan@example.go.id>",
    ],
)
def test_a_page_in_text_form_is_not_taken_for_html(text: str) -> None:
    assert not looks_like_html(text)
