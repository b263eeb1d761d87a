"""Reading single fields as offices publish them: completion time, fee, products, objects, staff."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oss_bridge.domain import CompletionTime
from oss_bridge.importer import (
    parse_completion_time,
    parse_fee,
    parse_staff_count,
    split_objects,
    split_products,
)


@pytest.mark.parametrize(
    ("published", "value", "unit"),
    [
        ("5 Hari", 5, "day"),
        ("5 Hari Kerja", 5, "working_day"),
        ("1 (satu) hari", 1, "day"),
        ("14 hari kerja", 14, "working_day"),
        ("3 (tiga) Hari Kerja", 3, "working_day"),
        ("lima (5) hari kerja", 5, "working_day"),
        ("5 HARI.", 5, "day"),
        ("  5\u00a0Hari  ", 5, "day"),
        ("5Hari", 5, "day"),
        ("Paling lama 7 hari kerja", 7, "working_day"),
        ("Maksimal 3 hari", 3, "day"),
        ("5 Hari Kerja sejak berkas diterima lengkap", 5, "working_day"),
        ("5 Hari Kerja (setelah berkas lengkap)", 5, "working_day"),
        ("10 hari kalender", 10, "day"),
        ("0 hari", 0, "day"),
        ("2 Minggu", 14, "day"),
        ("24 Jam", 1, "day"),
        ("48 jam", 2, "day"),
        ("1440 menit", 1, "day"),
    ],
)
def test_a_published_completion_time_is_read(published: str, value: int, unit: str) -> None:
    assert parse_completion_time(published) == CompletionTime.model_validate(
        {"value": value, "unit": unit}
    )


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        ("", "cannot read the completion time ''"),
        ("Secepatnya", "cannot read the completion time 'Secepatnya'"),
        ("satu hari", "cannot read the completion time 'satu hari'"),
        ("3-5 hari", "cannot read the completion time '3-5 hari'"),
        (
            "5 hari atau 10 hari kerja",
            "cannot read the completion time '5 hari atau 10 hari kerja'",
        ),
        ("3 Jam", "'3 Jam' is not a whole number of days"),
        ("90 menit", "'90 menit' is not a whole number of days"),
        ("1 Bulan", "'1 Bulan' is not a whole number of days"),
        ("1 tahun", "'1 tahun' is not a whole number of days"),
    ],
)
def test_an_unreadable_completion_time_is_refused_naming_the_text(
    published: str, reason: str
) -> None:
    with pytest.raises(ValueError, match="a number of days such as '5 Hari'") as caught:
        parse_completion_time(published)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("published", "amount"),
    [
        ("Tidak dipungut biaya", Decimal(0)),
        ("Tidak dikenakan biaya", Decimal(0)),
        ("Tanpa biaya", Decimal(0)),
        ("Gratis", Decimal(0)),
        ("GRATIS", Decimal(0)),
        ("Nihil", Decimal(0)),
        ("Rp 0", Decimal(0)),
        ("Rp. 0,-", Decimal(0)),
        ("Gratis (Rp 0,-)", Decimal(0)),
        ("Rp 150.000,-", Decimal(150000)),
        ("Rp150.000", Decimal(150000)),
        ("Rp. 1.500.000,00", Decimal(1500000)),
        ("Rp 2.500,50", Decimal("2500.50")),
        ("Rp 50000 per dokumen", Decimal(50000)),
        ("IDR 75.000", Decimal(75000)),
        ("150.000 rupiah", Decimal(150000)),
        ("Rp 150.000,- (seratus lima puluh ribu rupiah)", Decimal(150000)),
        ("Retribusi Rp 10.000,- sesuai Perda, dibayar Rp 10.000,- di loket", Decimal(10000)),
    ],
)
def test_a_published_fee_is_read_into_rupiah(published: str, amount: Decimal) -> None:
    assert parse_fee(published).amount == amount


@pytest.mark.parametrize("published", ["Tidak dipungut biaya", "Rp 150.000,- per  permohonan"])
def test_the_fee_note_keeps_the_published_text_with_white_space_folded(published: str) -> None:
    assert parse_fee(f"  {published}\n").note == " ".join(published.split())


def test_a_fee_is_in_rupiah() -> None:
    assert parse_fee("Rp 150.000,-").currency == "IDR"


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        ("", "cannot read the fee ''"),
        ("Sesuai Peraturan Daerah", "cannot read the fee 'Sesuai Peraturan Daerah'"),
        ("Rp 150,000", "cannot read the amount 'Rp 150,000'"),
        ("Rp 1.50", "cannot read the amount 'Rp 1.50'"),
        ("Rp 10.000 s.d. Rp 50.000", "names several amounts"),
        ("Gratis, kecuali legalisir Rp 5.000", "says the service is free and also names an amount"),
    ],
)
def test_an_unreadable_fee_is_refused_naming_the_text(published: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r"'Rp 150\.000,-'") as caught:
        parse_fee(published)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("published", "products"),
    [
        (["NIB dan Sertifikat Standar"], ["NIB", "Sertifikat Standar"]),
        (["Izin Lokasi dan Izin Lingkungan"], ["Izin Lokasi", "Izin Lingkungan"]),
        (["NIB dan Sertifikat Standar;"], ["NIB", "Sertifikat Standar"]),
        (["Persetujuan Bangunan Gedung (PBG)"], ["Persetujuan Bangunan Gedung (PBG)"]),
        (
            ["Surat keterangan bahwa pemohon telah memenuhi persyaratan teknis dan administrasi"],
            ["Surat keterangan bahwa pemohon telah memenuhi persyaratan teknis dan administrasi"],
        ),
        (["Izin Usaha Simpan dan pinjam"], ["Izin Usaha Simpan dan pinjam"]),
        (["NIB dan Izin, Sertifikat"], ["NIB dan Izin, Sertifikat"]),
        (["NIB dan Izin dan Sertifikat"], ["NIB dan Izin dan Sertifikat"]),
        (["NIB dan/atau Sertifikat Standar"], ["NIB dan/atau Sertifikat Standar"]),
        (["NIB", "Sertifikat Standar dan Izin"], ["NIB", "Sertifikat Standar dan Izin"]),
        (["Surat Izin Praktik;", "Tanda terima."], ["Surat Izin Praktik", "Tanda terima"]),
    ],
)
def test_only_a_single_short_a_dan_b_product_is_split(
    published: list[str], products: list[str]
) -> None:
    assert split_products(published) == products


@pytest.mark.parametrize(
    ("published", "objects"),
    [
        (
            "Pelaku Usaha, Pemerintah Kabupaten, ASN/PTT dan/atau profesi ahli yang bersertifikat"
            " atau terakreditasi",
            [
                "Pelaku Usaha",
                "Pemerintah Kabupaten",
                "ASN/PTT",
                "profesi ahli yang bersertifikat atau terakreditasi",
            ],
        ),
        ("Pemohon, Petugas, dan Tim Ahli", ["Pemohon", "Petugas", "Tim Ahli"]),
        ("Pemohon dan/atau Petugas", ["Pemohon", "Petugas"]),
        ("Pemohon dan / atau Petugas.", ["Pemohon", "Petugas"]),
        ("Pemohon; Petugas", ["Pemohon", "Petugas"]),
        ("Petugas pelayanan dan pengelola aplikasi", ["Petugas pelayanan dan pengelola aplikasi"]),
    ],
)
def test_complaint_objects_split_on_commas_and_dan_atau(published: str, objects: list[str]) -> None:
    assert split_objects(published) == objects


@pytest.mark.parametrize(
    ("published", "count"),
    [
        (["6 (enam) orang"], 6),
        (["Sebanyak 4 orang"], 4),
        (["Front office: 2 orang", "Back office: 4 orang"], 6),
        (["Terdiri dari:", "3 orang"], 3),
    ],
)
def test_the_staff_count_is_read(published: list[str], count: int) -> None:
    assert parse_staff_count(published) == count


def test_a_staff_count_without_a_number_is_refused_naming_the_text() -> None:
    with pytest.raises(ValueError, match=r"'Sesuai kebutuhan'.*'5 orang'"):
        parse_staff_count(["Sesuai kebutuhan"])
