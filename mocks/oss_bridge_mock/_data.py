"""Seed data shipped inside the package, and synthetic catalogues for load and paging tests."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from oss_bridge_mock._time import iso_wib

SEED_REGION = "1405"
PERMIT_TABLE = "8"


@dataclass(frozen=True)
class SeedData:
    """The parsed seed files."""

    catalogue: list[dict[str, Any]]
    referensi: dict[str, list[dict[str, Any]]]
    categories: list[dict[str, Any]]
    institutions: list[dict[str, Any]]


@cache
def _raw(name: str) -> str:
    return (resources.files("oss_bridge_mock") / "data" / name).read_text(encoding="utf-8")


def load_seed_data() -> SeedData:
    """A new, independent copy of the seed data (safe to mutate)."""
    return SeedData(
        catalogue=json.loads(_raw("catalogue.json")),
        referensi=json.loads(_raw("referensi.json")),
        categories=json.loads(_raw("categories.json")),
        institutions=json.loads(_raw("institutions.json")),
    )


_SYNTHETIC_EPOCH = datetime(2023, 1, 2, 1, 0, tzinfo=UTC)


def synthetic_entries(
    count: int, *, seed: int, permit_codes: list[str], kd_daerah: str = SEED_REGION
) -> list[dict[str, Any]]:
    """``count`` plausible catalogue entries, the same for the same ``seed``.

    Their ``diperbarui`` stamps fall on whole minutes within about a year before the seed
    entries, with deliberate ties (several entries per minute), so paging order depends on the
    ``id_layanan`` tie-break; about one in twenty is ``nonaktif``.
    """
    if count < 0:
        raise ValueError(f"cannot generate {count!r} entries; give zero or more")
    rng = random.Random(f"catalogue/{seed}")
    minutes = max(1, count // 3)
    span = 365 * 24 * 60
    entries = []
    for number in range(1, count + 1):
        stamp = _SYNTHETIC_EPOCH + timedelta(
            minutes=rng.randrange(minutes) * max(1, span // minutes)
        )
        steps = rng.randint(2, 6)
        entries.append(
            {
                "id_layanan": f"GEN-{kd_daerah}-{number:06d}",
                "kd_daerah": kd_daerah,
                "kd_izin": rng.choice(permit_codes)
                if permit_codes and rng.random() < 0.8
                else None,
                "nama_layanan": f"Layanan Perizinan Sintetis {number}",
                "persyaratan": [
                    f"Persyaratan {i} layanan {number}" for i in range(1, rng.randint(1, 4) + 1)
                ],
                "prosedur": [f"Langkah {i} layanan {number}" for i in range(1, steps + 1)],
                "waktu_penyelesaian": {
                    "nilai": rng.randint(1, 30),
                    "satuan": rng.choice(["hari", "hari_kerja"]),
                },
                "biaya": (
                    {"nominal": 0, "keterangan": "Tidak dipungut biaya"}
                    if rng.random() < 0.7
                    else {"nominal": rng.randrange(5, 500) * 1000, "keterangan": "Retribusi daerah"}
                ),
                "produk": [f"Dokumen izin {number}"],
                "pengaduan": {"prosedur": ["Pengaduan disampaikan melalui SP4N-LAPOR!"]},
                "versi": rng.randint(1, 9),
                "diperbarui": iso_wib(stamp),
                "status": "nonaktif" if rng.random() < 0.05 else "aktif",
            }
        )
    return entries
