"""Test data built in code: a service standard restating the facts of the seed page, and a clock.

``make_standard()`` is the "Job Portal" entry the Pelalawan office publishes: its name, the
agency, the single requirement, the three-part procedure, 5 days, no fee, the product and the
complaint handling section with its stages, categories, objects and contact.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from oss_bridge.domain import ComplaintCategory, ComplaintObject, ServiceStandard, Stage
from oss_bridge.domain.service_standard import slugify

AGENCY = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Pelalawan"
JOB_PORTAL_NAME = "Aktivitas Pendaftaran Tenaga Kerja Daring (Job Portal)"
JOB_PORTAL_CODE = slugify(JOB_PORTAL_NAME)


def standard_data(**overrides: Any) -> dict[str, Any]:
    """The seed page's entry as service-standard JSON, with ``overrides`` applied on top."""
    data: dict[str, Any] = {
        "code": JOB_PORTAL_CODE,
        "name": JOB_PORTAL_NAME,
        "agency": AGENCY,
        "sk_number": None,
        "requirements": [
            "Persyaratan dan/atau kewajiban Perizinan Berusaha Berbasis Resiko pada masing – "
            "masing sektor tercantum dalam Lampiran II Peraturan Pemerintah Nomor 5 Tahun 2021 "
            "tentang Penyelenggaraan Perizinan Berusaha Berbasis Resiko, dapat diakses pada "
            "subsistem pelayanan informasi OSS."
        ],
        "procedure": [
            "Pelaksanaan Perizinan Berusaha Berbasis Resiko dilakukan secara Elektronik dan "
            "terintegrasi melalui Sistem OSS (www.oss.go.id), yang terdiri dari : a. Subsistem "
            "pelayanan informasi; b. Subsistem Perizinan Berusaha; dan c. Subsistem Pengawasan",
            "Proses penerbitan Perizinan Berusaha Berbasis Resiko dilakukan melalui subsistem "
            "Perizinan Berusaha. Pelaku Usaha melakukan pendaftaran akun/hak akses dan "
            "permohonan perizinan berusaha dengan mempedomani alur dan panduan yang tersedia "
            "pada subsistem pelayanan informasi OSS",
            "Pengawasan (subsistem Pengawasan) a. Perencanaan inspeksi lapangan tahunan "
            "b. Laporan berkala dari Pelaku Usaha dan Data perkembangan kegiatan usaha; "
            "c. Perangkat kerja pengawasan; d. Penilaian kepatuhan pelaksanaan Perizinan "
            "Berusaha; e. Pengaduan terhadap Pelaku Usaha dan Pelaksana Pengawasan serta "
            "tindak lanjutnya; dan f. Pembinaan dan sanksi",
        ],
        "completion_time": {"value": 5, "unit": "day"},
        "fee": {"amount": "0", "currency": "IDR", "note": "Tidak dipungut biaya"},
        "products": ["NIB dan Sertifikat Standar"],
        "complaint_handling": {
            "rules": [
                "Pengelolaan pengaduan masyarakat dilakukan secara cepat, tepat, transparan, adil, "
                "tidak diskriminatif, dan tidak dipungut biaya.",
                "Pengelolaan pengaduan masyarakat dilaksanakan dengan tahapan:",
                "Durasi waktu pengelolaan pengaduan diatur sesuai dengan ketentuan peraturan "
                "perundang-undangan.",
                "Pelaksanaan pengelolaan pengaduan masyarakat terintegrasi dengan "
                "kementerian/lembaga dan perangkat daerah melalui Sistem OSS.",
            ],
            "stages": [stage.label for stage in Stage],
            "categories": [category.label for category in ComplaintCategory],
            "objects": [obj.label for obj in ComplaintObject],
            "procedure": [
                "Masyarakat dan Pelaku Usaha dapat menyampaikan pengaduan secara daring dengan "
                "hak akses OSS"
            ],
            "contact": {
                "address": "Komplek Perkantoran Bhakti Praja 28300",
                "phone": "08117699877",
                "website": "dpmptsp.pelalawankab.go.id",
            },
        },
    }
    data.update(overrides)
    return data


def make_standard(**overrides: Any) -> ServiceStandard:
    """The seed page's entry as a validated ``ServiceStandard``; ``overrides`` replace fields.

    Overrides are validated like the rest, so nested values may be models or plain dicts:
    ``make_standard(code="izin-2", fee={"amount": 50000, "note": None})``.
    """
    return ServiceStandard.model_validate(standard_data(**overrides))


class FakeClock:
    """A clock for code that takes ``clock: Callable[[], datetime]``; moves only when told."""

    def __init__(self, start: datetime = datetime(2024, 5, 6, 1, 2, 3, tzinfo=UTC)) -> None:
        if start.tzinfo is None:
            raise ValueError(f"start {start!r} must be an aware datetime")
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move on by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now
