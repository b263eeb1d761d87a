"""The service standards OSS holds: versions, change stamps, paging, optimistic writes.

Entries are kept as wire dicts (DESIGN.md 3.1). Each region has an index sorted by
``(diperbarui, id_layanan)``; a page is a slice of it after the cursor's key, so an edit during
paging moves the edited entry to the end (it is seen again, in its new version) while unchanged
entries are neither skipped nor repeated.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oss_bridge_mock._time import iso_wib, parse_aware

Key = tuple[datetime, str]

# What OSS assigns itself; a writer may echo them back but never sets them.
SERVER_FIELDS = frozenset({"versi", "diperbarui"})


class WaktuPenyelesaian(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nilai: int = Field(gt=0)
    satuan: Literal["hari", "hari_kerja"]


class Biaya(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nominal: int | float = Field(ge=0)
    keterangan: str | None = None


class EntryFields(BaseModel):
    """The fields of an entry that a writer sets (everything but ``versi`` and ``diperbarui``)."""

    model_config = ConfigDict(extra="forbid")

    id_layanan: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$"
    )
    kd_daerah: str = Field(pattern=r"^\d{2,6}$")
    kd_izin: str | None = None
    nama_layanan: str = Field(min_length=1, max_length=500)
    instansi: str | None = Field(default=None, min_length=1, max_length=500)
    persyaratan: list[str]
    prosedur: list[str]
    waktu_penyelesaian: WaktuPenyelesaian
    biaya: Biaya
    produk: list[str]
    pengaduan: dict[str, Any]
    status: Literal["aktif", "nonaktif"] = "aktif"


class ReceiveInput(EntryFields):
    """The ``STANDARPELAYANAN`` payload: an entry and the ``versi`` the writer last saw."""

    versi_dasar: int | None = None
    versi: int | None = None
    diperbarui: str | None = None


class CatalogueInputError(ValueError):
    """Bad parameters (OSS code 400); the message says what to change."""


@dataclass(frozen=True)
class Written:
    entry: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class Conflict:
    """OSS holds another version (``current``; None if it holds no such entry)."""

    current: dict[str, Any] | None
    reason: str


def describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
    )


def encode_cursor(key: Key) -> str:
    raw = json.dumps([key[0].isoformat(), key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, id_layanan = json.loads(raw)
        return parse_aware(stamp), str(id_layanan)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise CatalogueInputError(
            f"cursor {cursor!r} is not one this server gave out; start again with cursor null"
        ) from exc


class Catalogue:
    """All entries of all regions, with the operations OSS offers on them."""

    def __init__(
        self,
        entries: Iterable[Mapping[str, Any]],
        *,
        permit_codes: Collection[str],
        now: Callable[[], datetime],
    ) -> None:
        self._now = now
        self._permit_codes = frozenset(permit_codes)
        self._entries: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, Key] = {}
        self._index: dict[str, list[Key]] = {}
        self._created = 0
        for entry in entries:
            key = (parse_aware(entry["diperbarui"]), str(entry["id_layanan"]))
            if key[1] in self._entries:
                raise ValueError(f"id_layanan {key[1]!r} appears twice in the seed catalogue")
            self._entries[key[1]] = dict(entry)
            self._keys[key[1]] = key
            self._index.setdefault(str(entry["kd_daerah"]), []).append(key)
        for index in self._index.values():
            index.sort()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, id_layanan: str) -> dict[str, Any] | None:
        """A copy of the entry, or None."""
        entry = self._entries.get(id_layanan)
        return copy.deepcopy(entry) if entry is not None else None

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"id_layanan": e["id_layanan"], "versi": e["versi"], "status": e["status"]}
            for e in sorted(self._entries.values(), key=lambda e: str(e["id_layanan"]))
        ]

    def page(
        self, kd_daerah: str, *, sejak: datetime | None, after: Key | None, limit: int
    ) -> tuple[list[dict[str, Any]], Key | None]:
        """Entries of a region changed at or after ``sejak``, ordered, after the cursor key.

        Returns the entries (not copies: serialise them before the next write) and the key to
        continue from, or None on the last page.
        """
        index = self._index.get(kd_daerah, [])
        start = 0
        if sejak is not None:
            start = bisect_left(index, (sejak, ""))
        if after is not None:
            start = max(start, bisect_right(index, after))
        keys = index[start : start + limit]
        more = start + limit < len(index)
        return [self._entries[k[1]] for k in keys], (keys[-1] if more and keys else None)

    def receive(self, data: Mapping[str, Any]) -> Written | Conflict:
        """Create (``versi_dasar`` null) or update one entry, only if OSS holds ``versi_dasar``.

        Raises CatalogueInputError for invalid entries; a Conflict writes nothing.
        """
        try:
            incoming = ReceiveInput.model_validate(data)
        except ValidationError as exc:
            raise CatalogueInputError(f"invalid STANDARPELAYANAN: {describe(exc)}") from None
        self._check_permit(incoming.kd_izin)
        fields = incoming.model_dump(exclude={"versi_dasar", *SERVER_FIELDS})
        id_layanan = incoming.id_layanan
        current = self._entries.get(id_layanan) if id_layanan is not None else None
        if incoming.versi_dasar is None:
            if current is not None:
                return Conflict(
                    copy.deepcopy(current),
                    f"id_layanan {id_layanan!r} already exists at versi {current['versi']}; "
                    "send versi_dasar to update it",
                )
            return Written(self._create(fields), created=True)
        if id_layanan is None:
            raise CatalogueInputError(
                "id_layanan is required with versi_dasar; send versi_dasar null to create"
            )
        if current is None:
            return Conflict(
                None,
                f"id_layanan {id_layanan!r} does not exist; send versi_dasar null to create it",
            )
        if current["versi"] != incoming.versi_dasar:
            return Conflict(
                copy.deepcopy(current),
                f"versi_dasar {incoming.versi_dasar} is stale; OSS holds versi {current['versi']}",
            )
        return Written(self._replace(current, fields), created=False)

    def edit(self, id_layanan: str, changes: Mapping[str, Any]) -> Written:
        """Change an entry as OSS staff would: new ``versi`` and ``diperbarui``.

        An unknown ``id_layanan`` creates the entry, so ``changes`` must then hold every field.
        Raises CatalogueInputError naming what is wrong.
        """
        forbidden = sorted((set(changes) & SERVER_FIELDS) | ({"id_layanan"} & set(changes)))
        if forbidden:
            raise CatalogueInputError(
                f"{forbidden[0]!r} cannot be changed by an edit; OSS assigns versi and "
                "diperbarui, and id_layanan names the entry"
            )
        current = self._entries.get(id_layanan)
        base = {k: v for k, v in (current or {}).items() if k not in SERVER_FIELDS}
        merged = {**base, **changes, "id_layanan": id_layanan}
        try:
            fields = EntryFields.model_validate(merged)
        except ValidationError as exc:
            missing = "" if current is not None else " (a new entry needs every field)"
            raise CatalogueInputError(
                f"edit of {id_layanan!r} is invalid{missing}: {describe(exc)}"
            ) from None
        self._check_permit(fields.kd_izin)
        if current is None:
            return Written(self._create(fields.model_dump()), created=True)
        return Written(self._replace(current, fields.model_dump()), created=False)

    def _check_permit(self, kd_izin: str | None) -> None:
        if kd_izin is not None and kd_izin not in self._permit_codes:
            raise CatalogueInputError(
                f"kd_izin {kd_izin!r} is not in reference table 8; "
                "pick a kode_referensi from getDataReferensi kode 8"
            )

    def _create(self, fields: dict[str, Any]) -> dict[str, Any]:
        if fields.get("id_layanan") is None:
            self._created += 1
            fields["id_layanan"] = f"SP-{fields['kd_daerah']}-N{self._created:05d}"
            while fields["id_layanan"] in self._entries:
                self._created += 1
                fields["id_layanan"] = f"SP-{fields['kd_daerah']}-N{self._created:05d}"
        return self._stamp({**fields, "versi": 1})

    def _replace(self, current: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        return self._stamp({**fields, "versi": int(current["versi"]) + 1})

    def _stamp(self, entry: dict[str, Any]) -> dict[str, Any]:
        moment = self._now()
        entry["diperbarui"] = iso_wib(moment)
        ordered = {
            name: entry.get(name)
            for name in WIRE_ORDER
            if name in REQUIRED_ON_WIRE or entry.get(name) is not None
        }
        self._put(ordered, moment)
        return copy.deepcopy(ordered)

    def _put(self, entry: dict[str, Any], moment: datetime) -> None:
        id_layanan = str(entry["id_layanan"])
        old_key = self._keys.get(id_layanan)
        if old_key is not None:
            old_region = self._entries[id_layanan]["kd_daerah"]
            index = self._index[old_region]
            del index[bisect_left(index, old_key)]
        key = (moment, id_layanan)
        self._entries[id_layanan] = entry
        self._keys[id_layanan] = key
        insort(self._index.setdefault(str(entry["kd_daerah"]), []), key)


WIRE_ORDER = (
    "id_layanan",
    "kd_daerah",
    "kd_izin",
    "nama_layanan",
    "instansi",
    "persyaratan",
    "prosedur",
    "waktu_penyelesaian",
    "biaya",
    "produk",
    "pengaduan",
    "versi",
    "diperbarui",
    "status",
)
# ``instansi`` (the agency providing the service, when not the region's own) is an assumed
# optional field: sent only when set, as the bridge's client reads and writes it.
REQUIRED_ON_WIRE = frozenset(WIRE_ORDER) - {"instansi"}
