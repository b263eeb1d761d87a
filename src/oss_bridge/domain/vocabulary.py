"""Fixed vocabularies of complaint handling, as the office publishes them on its service pages.

Each member has a stable code (the enum value, used in the API, the store and config) and the
Indonesian label the office publishes (``.label``), which is what staff and citizens see.
"""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    label: str

    def __new__(cls, code: str, label: str) -> _Labelled:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    @classmethod
    def from_label(cls, label: str) -> _Labelled:
        """The member whose label matches ``label`` (case and white space folded)."""
        wanted = " ".join(label.split()).casefold()
        for member in cls:
            if member.label.casefold() == wanted:
                return member
        raise ValueError(f"{label!r} is not a known {cls.__name__} label")


class ComplaintCategory(_Labelled):
    """Kategori Pengaduan."""

    PERIZINAN_BERUSAHA = ("perizinan_berusaha", "Pelaksanaan Perizinan Berusaha Berbasis Risiko")
    KEGIATAN_USAHA = ("kegiatan_usaha", "Pelaksanaan kegiatan usaha")
    PENGAWASAN = ("pengawasan", "Pelaksanaan kegiatan Pengawasan")
    PENYALAHGUNAAN_OSS = (
        "penyalahgunaan_oss",
        "Penyalahgunaan penggunaan Sistem OSS yang tidak sesuai dengan ketentuan perundang-undangan",
    )
    HAMBATAN_OSS = (
        "hambatan_oss",
        "Pengaduan terhadap hambatan dan permasalahan dalam penggunaan Sistem OSS",
    )


class ComplaintObject(_Labelled):
    """Objek Pengaduan: whom the complaint is about."""

    PELAKU_USAHA = ("pelaku_usaha", "Pelaku Usaha")
    PEMERINTAH_KABUPATEN = ("pemerintah_kabupaten", "Pemerintah Kabupaten")
    ASN_PTT = ("asn_ptt", "ASN/PTT")
    PROFESI_AHLI = ("profesi_ahli", "profesi ahli yang bersertifikat atau terakreditasi")


class Stage(_Labelled):
    """Tahapan pengelolaan pengaduan, a to g, in the order a complaint passes them."""

    A = ("a", "menerima dan memberikan tanda terima")
    B = ("b", "memeriksa kelengkapan dokumen")
    C = ("c", "mengklasifikasi dan memprioritaskan penyelesaian")
    D = ("d", "menelaah dan menanggapi")
    E = ("e", "menatausahakan")
    F = ("f", "melaporkan hasil")
    G = ("g", "memantau dan mengevaluasi")

    @property
    def rank(self) -> int:
        """0 for stage a up to 6 for stage g; a complaint never moves to a lower rank."""
        return "abcdefg".index(self.value)
