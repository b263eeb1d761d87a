"""The importer on whole pages: the first office's published page, its HTML form, the packaged
sample, and other offices' pages in the same format with other content."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oss_bridge.data import sample_page_path
from oss_bridge.domain import (
    ComplaintCategory,
    ComplaintObject,
    CompletionTime,
    Contact,
    Fee,
    ServiceStandard,
    Stage,
)
from oss_bridge.errors import InputError, PageParseError
from oss_bridge.importer import parse_page, parse_page_file

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SEED = SHARED / "seeds" / "standar-pelayanan-job-portal.txt"
PAGES = Path(__file__).resolve().parents[1] / "data" / "pages"

JOB_PORTAL: dict[str, Any] = {
    "code": "aktivitas-pendaftaran-tenaga-kerja-daring-job-portal",
    "name": "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)",
    "agency": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan",
    "sk_number": None,
    "requirements": (
        "Persyaratan dan/atau kewajiban Perizinan Berusaha Berbasis Resiko pada masing – masing"
        " sektor tercantum dalam Lampiran II Peraturan Pemerintah Nomor 5 Tahun 2021 tentang"
        " Penyelenggaraan Perizinan Berusaha Berbasis Resiko, dapat diakses pada subsistem"
        " pelayanan informasi OSS.",
    ),
    "procedure": (
        "Pelaksanaan Perizinan Berusaha Berbasis Resiko dilakukans ecara Elektronik dan"
        " terintegrasi melalui Sistem OSS (www.oss.go.id), yang terdiri dari : a. Subsistem"
        " pelayanan informasi; b. Subsistem Perizinan Berusaha; dan c. Subsistem Pengawasan",
        "Proses penerbitan Perizinan Berusaha Berbasis Resiko dilakukan melalui subsistem"
        " Perizinan Berusaha. Pelaku Usaha melakukan pendaftaran akun/hak akses dan permohonan"
        " perizinan berusaha dengan mempedomani alur dan panduan yang tersedia pada subsistem"
        " pelayanan informasi OSS",
        "Pengawasan (subsistem Pengawasan) a. Perencanaan inspeksi lapangan tahunan b. Laporan"
        " berkala dari Pelaku Usaha dan Data perkembangan kegiatan usaha; c. Perangkat kerja"
        " pengawasan; d. Penilaian kepatuhan pelaksanaan Perizinan Berusaha; e. Pengaduan terhadap"
        " Pelaku Usaha dan Pelaksana Pengawasan serta tindak lanjutnya; dan f. Pembinaan dan sanksi",
    ),
    "completion_time": CompletionTime(value=5, unit="day"),
    "fee": Fee(amount=Decimal(0), note="Tidak dipungut biaya"),
    "products": ("NIB", "Sertifikat Standar"),
    "complaint_handling.rules": (
        "Pengelolaan pengaduan masyarakat dilakukan secara cepat, tepat, transparan, adil, tidak"
        " diskriminatif, dan tidak dipungut biaya.",
        "Pengelolaan pengaduan masyarakat dilaksanakan dengan tahapan:",
        "Durasi waktu pengelolaan pengaduan diatur sesuai dengan ketentuan peraturan"
        " perundang-undangan.",
        "Pelaksanaan pengelolaan pengaduan masyarakat terintegrasi dengan kementerian/lembaga dan"
        " perangkat daerah melalui Sistem OSS.",
    ),
    # The vocabularies were taken from this page, so the page must give back exactly their labels.
    "complaint_handling.stages": tuple(stage.label for stage in Stage),
    "complaint_handling.categories": tuple(category.label for category in ComplaintCategory),
    "complaint_handling.objects": tuple(obj.label for obj in ComplaintObject),
    "complaint_handling.procedure": (
        "Masyarakat dan Pelaku Usaha dapat menyampaikan pengaduan secara daring dengan hak akses OSS",
    ),
    "complaint_handling.contact": Contact(
        address="Komplek Perkantoran Bhakti Praja 28300",
        phone="08117699877",
        website="dpmptsp.pelalawankab.go.id",
    ),
    "legal_basis": (),
    "staff_count": None,
}

PBG: dict[str, Any] = {
    "code": "persetujuan-bangunan-gedung-pbg",
    "name": "Persetujuan Bangunan Gedung (PBG)",
    "agency": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Kampar",
    "sk_number": "800/DPMPTSP/2023/017",
    "requirements": (
        "Data pemohon atau pemilik bangunan gedung (KTP dan NPWP)",
        "Data tanah: sertifikat hak atas tanah atau bukti kepemilikan tanah lainnya",
        "Dokumen rencana teknis bangunan gedung: a. gambar arsitektur; b. gambar struktur; dan"
        " c. gambar utilitas (mekanikal, elektrikal dan plambing).",
        "Surat pernyataan kesanggupan pemenuhan standar teknis bangunan gedung",
    ),
    "procedure": (
        "Pemohon mendaftar dan mengunggah dokumen rencana teknis melalui SIMBG (simbg.pu.go.id)",
        "Petugas memeriksa kelengkapan dokumen",
        "Tim Profesi Ahli (TPA) melakukan konsultasi dan pemeriksaan pemenuhan standar teknis",
        "Penerbitan Surat Pernyataan Pemenuhan Standar Teknis",
        "Pemohon membayar retribusi PBG",
        "PBG diterbitkan dan dapat diunduh melalui SIMBG",
    ),
    "completion_time": CompletionTime(value=14, unit="working_day"),
    "fee": Fee(
        amount=Decimal(150000),
        note="Rp 150.000,- (seratus lima puluh ribu rupiah) per permohonan",
    ),
    "products": ("Persetujuan Bangunan Gedung (PBG)",),
    "complaint_handling.rules": (
        "Pengaduan disampaikan langsung di loket pengaduan, melalui SP4N-LAPOR! (www.lapor.go.id)"
        " atau surel pengaduan.dpmptsp@kamparkab.go.id.",
        "Pengaduan dikelola dengan tahapan:",
        "Pengaduan ditanggapi paling lambat 5 (lima) hari kerja sejak diterima.",
    ),
    "complaint_handling.stages": (
        "penerimaan pengaduan",
        "verifikasi dan klasifikasi",
        "penanganan dan tindak lanjut",
        "penyampaian jawaban kepada pengadu",
        "pelaporan",
    ),
    "complaint_handling.categories": (
        "Pelayanan Persetujuan Bangunan Gedung",
        "Perilaku petugas pelayanan",
    ),
    "complaint_handling.objects": ("Pemohon", "Petugas Pelayanan", "Tim Profesi Ahli"),
    "complaint_handling.procedure": (
        "Pengadu mengisi formulir pengaduan di loket atau melalui SP4N-LAPOR!",
        "Petugas mencatat pengaduan dan memberikan tanda terima",
    ),
    "complaint_handling.contact": Contact(
        address="Jl. Prof. M. Yamin SH No. 83 Bangkinang 28412",
        phone="(0762) 21110",
        website="dpmptsp.kamparkab.go.id",
    ),
    "legal_basis": (
        "Undang-Undang Nomor 28 Tahun 2002 tentang Bangunan Gedung sebagaimana telah diubah dengan"
        " Undang-Undang Nomor 6 Tahun 2023;",
        "Peraturan Pemerintah Nomor 16 Tahun 2021 tentang Peraturan Pelaksanaan Undang-Undang"
        " Nomor 28 Tahun 2002 tentang Bangunan Gedung;",
        "Peraturan Daerah Kabupaten Kampar tentang Retribusi Persetujuan Bangunan Gedung.",
    ),
    "facilities": (
        "Ruang tunggu ber-AC",
        "Loket pelayanan dan loket pengaduan",
        "Komputer dan jaringan internet",
        "Toilet dan ruang laktasi",
    ),
    "staff_competence": (
        "Memahami peraturan bangunan gedung dan SIMBG",
        "Mampu berkomunikasi dengan baik",
    ),
    "internal_supervision": (
        "Pengawasan langsung oleh Kepala Bidang Pelayanan",
        "Sistem Pengendalian Intern Pemerintah (SPIP)",
    ),
    "staff_count": 6,
    "service_guarantee": (
        "Pelayanan diberikan sesuai standar pelayanan yang ditetapkan dan dituangkan dalam"
        " maklumat pelayanan."
    ),
    "security_guarantee": (
        "1. Dokumen pemohon disimpan dan dijaga kerahasiaannya\n"
        "2. Ruang pelayanan dilengkapi APAR dan jalur evakuasi"
    ),
    # The header block that closes the page is not a third evaluation item.
    "performance_evaluation": (
        "Survei Kepuasan Masyarakat setiap semester",
        "Evaluasi kinerja pelaksana oleh atasan langsung setiap tahun",
    ),
}

SIPA: dict[str, Any] = {
    "name": "Surat Izin Praktik Apoteker (SIPA)",
    "agency": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Siak",
    "sk_number": "503/DPMPTSP-SIAK/SK/2023/112",
    "requirements": (
        "Fotokopi Surat Tanda Registrasi Apoteker (STRA) yang masih berlaku",
        "Surat rekomendasi dari organisasi profesi (IAI)",
        "Surat pernyataan mempunyai tempat praktik profesi",
        "Pas foto berwarna ukuran 4x6 sebanyak 2 (dua) lembar",
        "Fotokopi Kartu Tanda Penduduk (KTP)",
    ),
    "procedure": (
        "Pemohon mengajukan permohonan melalui aplikasi perizinan daerah",
        "Petugas back office memverifikasi berkas: a. berkas lengkap dilanjutkan ke"
        " penandatanganan; b. berkas tidak lengkap dikembalikan kepada pemohon.",
        "Kepala Dinas menandatangani SIPA secara elektronik",
        "Pemohon mengunduh SIPA",
    ),
    "completion_time": CompletionTime(value=3, unit="working_day"),
    "fee": Fee(amount=Decimal(0), note="Gratis"),
    "products": ("Surat Izin Praktik Apoteker (SIPA)", "Tanda terima pendaftaran"),
    "complaint_handling.rules": (
        "Pengaduan, saran dan masukan disampaikan melalui kotak saran, telepon/WhatsApp"
        " 0812-7654-3210, atau SP4N-LAPOR!.",
        "Pengaduan ditindaklanjuti sesuai tahapan:",
    ),
    "complaint_handling.stages": ("penerimaan", "penelaahan", "penyampaian tanggapan"),
    "complaint_handling.categories": ("Pelayanan perizinan kesehatan",),
    "complaint_handling.objects": ("Petugas pelayanan", "sistem aplikasi perizinan"),
    "complaint_handling.procedure": (
        "Pengadu menyampaikan identitas dan uraian pengaduan",
        "Petugas memberikan tanda terima",
    ),
    "complaint_handling.contact": Contact(
        address="Jl. Sultan Syarif Kasim No. 10 Siak Sri Indrapura 28773",
        phone="(0764) 20123",
        website="https://dpmptsp.siakkab.go.id",
    ),
}


def field_of(standard: ServiceStandard, path: str) -> Any:
    value: Any = standard
    for part in path.split("."):
        value = getattr(value, part)
    return value


@cache
def seed_text() -> str:
    if not SHARED.is_dir():
        pytest.skip(f"the shared folder beside the repository is absent ({SHARED})")
    return SEED.read_text(encoding="utf-8")


@cache
def sample_text() -> str:
    return sample_page_path().read_text(encoding="utf-8")


@cache
def parsed(name: str) -> ServiceStandard:
    return parse_page_file(PAGES / name)


@pytest.mark.parametrize("path", list(JOB_PORTAL))
def test_the_seed_page_gives_each_published_field(path: str) -> None:
    assert field_of(parse_page(seed_text()), path) == JOB_PORTAL[path]


@pytest.mark.parametrize("path", list(JOB_PORTAL))
def test_the_packaged_sample_gives_each_field_of_the_seed(path: str) -> None:
    assert field_of(parse_page(sample_text()), path) == JOB_PORTAL[path]


def test_the_packaged_sample_parses_to_the_same_service_standard_as_the_seed() -> None:
    assert parse_page(sample_text()) == parse_page(seed_text())


def test_the_html_version_of_the_seed_gives_an_identical_service_standard() -> None:
    assert parsed("standar-pelayanan-job-portal.html") == parse_page(seed_text())


def test_the_html_version_gives_the_same_service_standard_as_the_packaged_sample() -> None:
    assert parsed("standar-pelayanan-job-portal.html") == parse_page(sample_text())


def test_the_seed_stages_categories_and_objects_map_onto_the_vocabularies() -> None:
    handling = parse_page(seed_text()).complaint_handling
    assert [Stage.from_label(stage) for stage in handling.stages] == list(Stage)
    assert [ComplaintCategory.from_label(c) for c in handling.categories] == list(ComplaintCategory)
    assert [ComplaintObject.from_label(o) for o in handling.objects] == list(ComplaintObject)


@pytest.mark.parametrize("path", list(PBG))
def test_a_building_permit_page_with_management_sections_gives_each_field(path: str) -> None:
    assert field_of(parsed("standar-pelayanan-pbg.txt"), path) == PBG[path]


@pytest.mark.parametrize("path", list(SIPA))
def test_a_compact_page_with_other_heading_spellings_gives_each_field(path: str) -> None:
    assert field_of(parsed("standar-pelayanan-sipa.txt"), path) == SIPA[path]


def without_fee(text: str) -> str:
    start = text.index("\nBiaya / Tarif\n")
    return text[:start] + text[text.index("\nProduk Pelayanan\n", start) :]


def test_the_seed_without_its_fee_section_is_refused_naming_biaya_tarif() -> None:
    with pytest.raises(PageParseError) as caught:
        parse_page(without_fee(seed_text()))
    assert caught.value.missing_sections == ("Biaya / Tarif",)
    assert "'Biaya / Tarif'" in str(caught.value)


def test_a_page_missing_several_sections_names_each_of_them() -> None:
    text = sample_text()
    cut = text[: text.index("\nBiaya / Tarif\n")]
    with pytest.raises(PageParseError) as caught:
        parse_page(cut, source="cut.txt")
    missing = ("Biaya / Tarif", "Produk Pelayanan", "Pengaduan Layanan")
    assert caught.value.missing_sections == missing
    assert all(f"'{heading}'" in str(caught.value) for heading in missing)


def test_the_error_names_the_page_it_came_from() -> None:
    with pytest.raises(PageParseError, match=r"^kampar\.txt: "):
        parse_page(without_fee(sample_text()), source="kampar.txt")


def test_a_required_section_with_a_heading_but_no_content_is_named_as_empty() -> None:
    text = sample_text().replace("\nTidak dipungut biaya\n", "\n")
    with pytest.raises(PageParseError, match="'Biaya / Tarif' of the page is empty") as caught:
        parse_page(text)
    assert caught.value.missing_sections == ("Biaya / Tarif",)


def test_a_section_holding_only_the_repeated_header_block_is_empty() -> None:
    office = (
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan\n"
        "Komplek Perkantoran Bhakti Praja 28300 08117699877\n"
        "dpmptsp.pelalawankab.go.id\n"
    )
    text = sample_text().replace("\nTidak dipungut biaya\n", f"\n{office}")
    with pytest.raises(PageParseError) as caught:
        parse_page(text)
    assert caught.value.missing_sections == ("Biaya / Tarif",)


def test_an_unreadable_completion_time_is_quoted_with_the_expected_form() -> None:
    text = sample_text().replace("\n5 Hari\n", "\nSecepatnya\n")
    with pytest.raises(PageParseError, match=r"'Secepatnya'.*'5 Hari'.*'14 Hari Kerja'"):
        parse_page(text)


def test_an_unreadable_fee_is_quoted_with_the_expected_form() -> None:
    text = sample_text().replace("\nTidak dipungut biaya\n", "\nSesuai Peraturan Daerah\n")
    with pytest.raises(PageParseError, match=r"'Sesuai Peraturan Daerah'.*'Rp 150\.000,-'"):
        parse_page(text)


def test_every_problem_of_a_page_is_reported_at_once() -> None:
    text = without_fee(sample_text()).replace("\n5 Hari\n", "\nSecepatnya\n")
    with pytest.raises(PageParseError) as caught:
        parse_page(text)
    assert "'Biaya / Tarif'" in str(caught.value)
    assert "'Secepatnya'" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("published", "variant"),
    [
        ("Persyaratan", "PERSYARATAN"),
        ("Persyaratan", "Persyaratan Pelayanan"),
        ("Persyaratan", "Persyaratan :"),
        ("Sistem, Mekanisme dan Prosedur", "Sistem, Mekanisme, dan Prosedur"),
        ("Sistem, Mekanisme dan Prosedur", "Sistem Mekanisme dan Prosedur"),
        ("Sistem, Mekanisme dan Prosedur", "Mekanisme dan Prosedur"),
        ("Sistem, Mekanisme dan Prosedur", "Prosedur"),
        ("Sistem, Mekanisme dan Prosedur", "Prosedur Pelayanan"),
        ("Waktu Penyelesaian", "WAKTU PENYELESAIAN"),
        ("Waktu Penyelesaian", "Jangka Waktu Penyelesaian"),
        ("Biaya / Tarif", "Biaya/Tarif"),
        ("Biaya / Tarif", "Biaya"),
        ("Biaya / Tarif", "Tarif"),
        ("Biaya / Tarif", "Biaya Pelayanan"),
        ("Biaya / Tarif", "biaya  /  tarif:"),
        ("Produk Pelayanan", "Produk Layanan"),
        ("Produk Pelayanan", "Produk"),
        ("Pengaduan Layanan", "Penanganan Pengaduan, Saran dan Masukan"),
        ("Pengaduan Layanan", "Penanganan Pengaduan, Saran, dan Masukan"),
        ("Pengaduan Layanan", "Pengaduan"),
    ],
)
def test_a_heading_is_recognised_in_its_usual_spellings(published: str, variant: str) -> None:
    text = sample_text().replace(f"\n{published}\n", f"\n{variant}\n", 1)
    assert parse_page(text) == parse_page(sample_text())


@pytest.mark.parametrize(
    "variant",
    [
        "Sarana dan Prasarana",
        "Sarana, Prasarana dan/atau Fasilitas",
        "Sarana dan Prasarana/Fasilitas",
        "Fasilitas",
        "SARANA DAN PRASARANA / FASILITAS",
    ],
)
def test_the_facilities_heading_is_recognised_in_its_usual_spellings(variant: str) -> None:
    text = (PAGES / "standar-pelayanan-pbg.txt").read_text(encoding="utf-8")
    text = text.replace("\nSarana dan Prasarana / Fasilitas\n", f"\n{variant}\n")
    assert parse_page(text).facilities == PBG["facilities"]


@pytest.mark.parametrize(
    ("line", "sk_number"),
    [
        ("No. SK :", None),
        ("No. SK : -", None),
        ("No. SK : 12/KPTS/2023", "12/KPTS/2023"),
        ("Nomor SK: 12/KPTS/2023", "12/KPTS/2023"),
        ("No SK 12/KPTS/2023", "12/KPTS/2023"),
    ],
)
def test_the_sk_number_is_the_text_after_no_sk(line: str, sk_number: str | None) -> None:
    text = sample_text().replace("\nNo. SK :\n", f"\n{line}\n")
    assert parse_page(text).sk_number == sk_number


def test_a_page_without_an_sk_line_still_has_its_name() -> None:
    text = sample_text().replace("\nNo. SK :\n", "\n")
    assert parse_page(text).name == JOB_PORTAL["name"]


def test_a_given_code_replaces_the_one_made_from_the_name() -> None:
    assert parse_page(sample_text(), code="job-portal").code == "job-portal"


def test_an_unusable_code_is_refused_with_the_code_shown() -> None:
    with pytest.raises(InputError, match=r"code 'job portal' is not usable"):
        parse_page(sample_text(), code="job portal")


def test_the_website_of_the_top_header_wins_over_a_misspelled_repeat() -> None:
    assert "dpmtsp.pelalawankab.go.id" in seed_text()
    contact = parse_page(seed_text()).complaint_handling.contact
    assert contact.website == "dpmptsp.pelalawankab.go.id"


def test_the_contact_comes_from_a_repeat_when_the_top_header_lacks_it() -> None:
    text = sample_text().replace("\nKomplek Perkantoran Bhakti Praja 28300 08117699877\n", "\n")
    repeat = (
        "Pengaduan Layanan\n\n"
        "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan\n"
        "Jl. Contoh No. 1 28300 Telp. 0761-123456\n"
        "dpmptsp.pelalawankab.go.id\n"
    )
    text = text.replace("Pengaduan Layanan\n", repeat)
    contact = parse_page(text).complaint_handling.contact
    assert (contact.address, contact.phone) == ("Jl. Contoh No. 1 28300", "0761-123456")


def test_nested_items_under_a_rule_that_announces_no_stages_stay_in_that_rule() -> None:
    channels = (
        "1. Pengaduan dapat disampaikan melalui:\n"
        " - a. loket pengaduan;\n"
        " - b. SP4N-LAPOR!\n"
        "2. Pengelolaan pengaduan masyarakat dilaksanakan dengan tahapan:\n"
    )
    text = sample_text().replace(
        "2. Pengelolaan pengaduan masyarakat dilaksanakan dengan tahapan:\n", channels
    )
    handling = parse_page(text).complaint_handling
    assert handling.rules[1] == (
        "Pengaduan dapat disampaikan melalui: a. loket pengaduan; b. SP4N-LAPOR!"
    )
    assert handling.stages == JOB_PORTAL["complaint_handling.stages"]


def test_objects_published_as_a_list_are_read_one_an_item() -> None:
    listed = "Objek Pengaduan :\n\n- Pelaku Usaha;\n- ASN/PTT.\n"
    text = sample_text().replace(
        "Objek Pengaduan : Pelaku Usaha, Pemerintah Kabupaten, ASN/PTT dan/atau profesi ahli"
        " yang bersertifikat atau terakreditasi\n",
        listed,
    )
    assert parse_page(text).complaint_handling.objects == ("Pelaku Usaha", "ASN/PTT")


def test_a_page_without_its_service_name_is_refused_saying_where_the_name_goes() -> None:
    text = sample_text().replace(f"\n{JOB_PORTAL['name']}\n", "\n")
    with pytest.raises(PageParseError, match="cannot find the service name"):
        parse_page(text)


def test_an_unreadable_staff_count_is_quoted() -> None:
    text = (PAGES / "standar-pelayanan-pbg.txt").read_text(encoding="utf-8")
    text = text.replace("\n6 (enam) orang\n", "\nSesuai kebutuhan\n")
    with pytest.raises(PageParseError, match=r"'Sesuai kebutuhan'.*'5 orang'"):
        parse_page(text)


def test_a_line_break_inside_an_html_list_item_keeps_the_item_whole() -> None:
    html = (PAGES / "standar-pelayanan-job-portal.html").read_text(encoding="utf-8")
    broken = html.replace("masing sektor\n          tercantum", "masing sektor<br>tercantum")
    assert broken != html
    assert parse_page(broken) == parsed("standar-pelayanan-job-portal.html")


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_cut_of_a_page_either_parses_or_is_refused_with_a_page_parse_error(
    data: st.DataObject,
) -> None:
    lines = sample_text().splitlines()
    keep = data.draw(st.lists(st.booleans(), min_size=len(lines), max_size=len(lines)))
    cut = "\n".join(line for line, kept in zip(lines, keep, strict=True) if kept)
    try:
        parse_page(cut)
        message = ""
    except PageParseError as exc:
        message = str(exc)
    assert "\n" not in message
