"""OSS wire format (DESIGN.md 3.1) and its mapping to and from the domain ``ServiceStandard``.

Every OSS field name lives in this module. The models are strict (types are not coerced, required
fields are required) except where the real API is known to be inconsistent:

- ``kode`` arrives as a number or a numeric string;
- the answer's wrapper key is spelt ``respon{method}`` with varying case and, in places, an
  underscore (``responGetDataReferensi``, ``respon_getDataReferensi``);
- codes of the reference tables (``kode_referensi``, and ``kd_izin`` which names one) arrive as
  numbers or strings; both are read as text, the form the table's codes are compared in.

Unknown keys in answers are ignored, so OSS adding a field breaks nothing.

Assumed parts (no public specification): the inquiry and receive methods, the entry's shape, and
``instansi``, an optional entry field naming the agency that provides the service. Absent means
the region's own agency (from config) both ways: an entry without it is read as the region's
agency (``EntryDefaults.agency``), and a standard of the region's agency is sent without it.

The ``pengaduan`` object (assumed) maps the domain ``ComplaintHandling`` key by key:
``ketentuan``/rules, ``tahapan``/stages, ``kategori``/categories, ``objek``/objects,
``prosedur``/procedure, ``kontak{alamat, telepon, situs}``/contact{address, phone, website}.
Being our own reading, it is held to exactly these keys: an unknown key is an error rather than
a complaint-handling fact silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NotRequired, TypeVar, cast, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
    StrictStr,
    TypeAdapter,
)
from pydantic_core import PydanticSerializationError, to_json
from typing_extensions import TypedDict

from oss_bridge.domain.canonical import CanonicalStandard, decimal_text
from oss_bridge.domain.service_standard import (
    CODE_PATTERN,
    ComplaintHandling,
    CompletionTime,
    Fee,
    ServiceStandard,
)

PERMIT_CODES_TABLE = "8"

M = TypeVar("M", bound=BaseModel)

# Fields of a service standard that OSS does not hold; the region keeps them.
LOCAL_ONLY_FIELDS: tuple[str, ...] = (
    "sk_number",
    "legal_basis",
    "facilities",
    "staff_competence",
    "internal_supervision",
    "staff_count",
    "service_guarantee",
    "security_guarantee",
    "performance_evaluation",
)


def _kode(value: Any) -> Any:
    """OSS sends ``kode`` as 200 or "200"; accept both, nothing else."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _code_text(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _nominal(value: Any) -> Any:
    """A JSON number as an exact Decimal (via its text, so 0.1 stays 0.1); anything else fails."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"nominal must be a JSON number, not {value!r}")
    return Decimal(str(value))


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 date-time text, not {value!r}")
    return value


Kode = Annotated[StrictInt, BeforeValidator(_kode)]
CodeText = Annotated[StrictStr, BeforeValidator(_code_text)]
Nominal = Annotated[Decimal, BeforeValidator(_nominal)]
Timestamp = Annotated[AwareDatetime, Strict(False), BeforeValidator(_iso_text)]
TextList = list[StrictStr]


class _Wire(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Out(BaseModel):
    """What we send: exactly these keys, nothing else."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- answers -------------------------------------------------------------------------------


class Header(_Wire):
    """The part of every answer that says how it went."""

    kode: Kode
    keterangan: StrictStr | None = None


class ReferenceRow(_Wire):
    kode_referensi: CodeText
    uraian_referensi: StrictStr
    keterangan_referensi: StrictStr | None = None


class ReferenceAnswer(Header):
    dataReferensi: list[ReferenceRow]  # OSS's own spelling


class WaktuPenyelesaian(_Wire):
    nilai: StrictInt = Field(ge=0)
    satuan: Literal["hari", "hari_kerja"]


class Biaya(_Wire):
    nominal: Nominal = Field(ge=0)
    keterangan: StrictStr | None = None


class Kontak(_Wire):
    model_config = ConfigDict(extra="forbid")

    alamat: StrictStr | None = None
    telepon: StrictStr | None = None
    situs: StrictStr | None = None


class Pengaduan(_Wire):
    # Factories rather than default values: pydantic deep-copies a mutable default for every
    # entry that lacks the key, which costs more than building a new empty one.
    model_config = ConfigDict(extra="forbid")

    ketentuan: TextList = Field(default_factory=list)
    tahapan: TextList = Field(default_factory=list)
    kategori: TextList = Field(default_factory=list)
    objek: TextList = Field(default_factory=list)
    prosedur: TextList = Field(default_factory=list)
    kontak: Kontak = Field(default_factory=Kontak)


class Entry(_Wire):
    """One service standard as OSS holds it."""

    id_layanan: StrictStr
    kd_daerah: StrictStr
    kd_izin: CodeText | None = None
    nama_layanan: StrictStr
    instansi: StrictStr | None = None  # assumed; see the module docstring
    persyaratan: TextList
    prosedur: TextList
    waktu_penyelesaian: WaktuPenyelesaian
    biaya: Biaya
    produk: TextList
    pengaduan: Pengaduan
    versi: StrictInt
    diperbarui: Timestamp
    status: Literal["aktif", "nonaktif"]


def _as_data(model: type[BaseModel], made: dict[type[BaseModel], Any]) -> Any:
    """A TypedDict that validates exactly as ``model`` does, into plain dicts.

    Same fields, annotations, constraints and config (``strict``, ``extra``), nested models
    mirrored the same way; the keys of fields with defaults are absent when the input lacks
    them (``standard_from`` knows the defaults). Reading a page into dicts spares building
    five models per entry only to read them once. Raises ``TypeError`` for what it cannot
    mirror faithfully (validators, aliases, other config), so that a change to the wire
    models cannot silently read differently.
    """
    if model in made:
        return made[model]
    decorators = model.__pydantic_decorators__
    if decorators.validators or decorators.field_validators or decorators.model_validators:
        raise TypeError(f"{model.__name__} has validators, which a TypedDict cannot mirror")
    config = dict(model.model_config)
    config.pop("frozen", None)
    if set(config) - {"strict", "extra"}:
        raise TypeError(f"{model.__name__} has config {config!r} this mirror does not carry")
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.alias or info.validation_alias or info.discriminator:
            raise TypeError(f"{model.__name__}.{name} has an alias or discriminator")
        annotation = _mirrored(info.annotation, made)
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = annotation if info.is_required() else NotRequired[annotation]
    typed_dict: Any = TypedDict
    data: Any = typed_dict(f"{model.__name__}Data", fields)
    data.__pydantic_config__ = config
    made[model] = data
    return data


def _mirrored(annotation: Any, made: dict[type[BaseModel], Any]) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _as_data(annotation, made)
    args = get_args(annotation)
    if not any(_mirrored(arg, made) is not arg for arg in args):
        return annotation
    raise TypeError(f"{annotation!r} holds a model inside another type, which is not mirrored")


EntryData: Any = _as_data(Entry, {})
ENTRY_DATA: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[EntryData])
"""Reads a page's list of entries in one pass into ``EntryData`` dicts, accepting exactly the
lists whose every item ``Entry.model_validate`` accepts."""


class InquiryAnswer(Header):
    data: list[Entry]
    next_cursor: StrictStr | None = None


class RawInquiryAnswer(Header):
    """``InquiryAnswer`` with its entries left unread, to be read one by one.

    The page itself (a list of entries, a cursor) must still be well formed; an entry that is
    not a valid ``Entry`` then spoils only itself, not the page.
    """

    data: list[Any]
    next_cursor: StrictStr | None = None


class ReceiveAnswer(Header):
    versi: StrictInt


class ConflictAnswer(Header):
    """Code 409: OSS holds another version; ``data`` is its current entry, null if none."""

    data: Entry | None = None


# --- requests ------------------------------------------------------------------------------


class ReferenceQuery(_Out):
    kode: str


class InquiryQuery(_Out):
    kd_daerah: str
    sejak: str | None
    cursor: str | None
    limit: int


class KontakOut(_Out):
    alamat: str | None
    telepon: str | None
    situs: str | None


class PengaduanOut(_Out):
    ketentuan: list[str]
    tahapan: list[str]
    kategori: list[str]
    objek: list[str]
    prosedur: list[str]
    kontak: KontakOut


class WaktuOut(_Out):
    nilai: int
    satuan: Literal["hari", "hari_kerja"]


class BiayaOut(_Out):
    # A JSON number: OSS reads rupiah amounts as numbers, never as text.
    nominal: int | float
    keterangan: str | None


class EntryOut(_Out):
    """One entry as sent to ``receiveStandarPelayanan``."""

    id_layanan: str
    kd_daerah: str
    kd_izin: str | None
    nama_layanan: str
    instansi: str | None
    persyaratan: list[str]
    prosedur: list[str]
    waktu_penyelesaian: WaktuOut
    biaya: BiayaOut
    produk: list[str]
    pengaduan: PengaduanOut
    status: Literal["aktif", "nonaktif"]
    versi_dasar: int | None


# --- mapping -------------------------------------------------------------------------------

_UNIT_TO_WIRE: dict[str, Literal["hari", "hari_kerja"]] = {
    "day": "hari",
    "working_day": "hari_kerja",
}
_UNIT_FROM_WIRE: dict[str, Literal["day", "working_day"]] = {
    "hari": "day",
    "hari_kerja": "working_day",
}
_STATUS_TO_WIRE: dict[str, Literal["aktif", "nonaktif"]] = {
    "active": "aktif",
    "inactive": "nonaktif",
}
_STATUS_FROM_WIRE: dict[str, Literal["active", "inactive"]] = {
    "aktif": "active",
    "nonaktif": "inactive",
}


@dataclass(frozen=True)
class EntryDefaults:
    """What a wire entry lacks and the domain needs.

    ``agency`` stands in when OSS sends no ``instansi``. ``local`` is the region's own entry,
    whose fields OSS does not hold (``LOCAL_ONLY_FIELDS``: decree number, management
    components) are carried over unchanged; without it they take their empty defaults.
    """

    agency: str
    local: ServiceStandard | None = None


def to_domain(entry: Entry, *, defaults: EntryDefaults) -> ServiceStandard:
    """The domain service standard an OSS entry describes.

    Raises pydantic's ``ValidationError`` when the entry is valid on the wire but not as a
    service standard (e.g. no requirements); the client turns that into ``MalformedResponse``.
    """
    return standard_from(entry.model_dump(), defaults=defaults)


def standard_from(
    data: Mapping[str, Any], *, defaults: EntryDefaults, parts: SharedParts | None = None
) -> ServiceStandard:
    """``to_domain`` of an entry read as ``EntryData`` (or an ``Entry``'s dump).

    With ``parts``, the complaint handling, fee and completion time come from it (see
    ``SharedParts``); the standard is the same, but a ``ValidationError`` then names the
    fields within the part that failed, where without ``parts`` it names them from the
    standard's top.
    """
    standard = _domain_fields(data, agency=defaults.agency, amount=data["biaya"]["nominal"])
    if parts is not None:
        handling, fee, completion = parts.shared(
            standard["complaint_handling"], standard["fee"], standard["completion_time"]
        )
        standard.update(complaint_handling=handling, fee=fee, completion_time=completion)
    if defaults.local is not None:
        for name in LOCAL_ONLY_FIELDS:
            standard[name] = getattr(defaults.local, name)
    # One validation of the whole standard, nested parts as plain data: building each part as
    # a model first would validate it twice.
    return ServiceStandard.model_validate(standard)


def _domain_fields(data: Mapping[str, Any], *, agency: str, amount: object) -> dict[str, Any]:
    """The service standard an entry read as ``EntryData`` describes, as plain data under the
    domain's names, not yet validated: the one place where the wire's names meet the domain's.

    ``agency`` stands in for a missing ``instansi``; ``amount`` is the fee's amount as the caller
    wants it (a decimal to validate, or its canonical text). The fields OSS does not hold are at
    their empty values. Keys are in sorted order at every level, as ``canonical_json`` writes
    them, so that the canonical content is this data with its amount as text.
    """
    pengaduan = data["pengaduan"]
    kontak = pengaduan.get("kontak", {})
    waktu = data["waktu_penyelesaian"]
    return {
        "agency": data.get("instansi") or agency,
        "code": data["id_layanan"],
        "complaint_handling": {
            "categories": pengaduan.get("kategori", []),
            "contact": {
                "address": kontak.get("alamat"),
                "phone": kontak.get("telepon"),
                "website": kontak.get("situs"),
            },
            "objects": pengaduan.get("objek", []),
            "procedure": pengaduan.get("prosedur", []),
            "rules": pengaduan.get("ketentuan", []),
            "stages": pengaduan.get("tahapan", []),
        },
        "completion_time": {"unit": _UNIT_FROM_WIRE[waktu["satuan"]], "value": waktu["nilai"]},
        "facilities": [],
        "fee": {"amount": amount, "currency": "IDR", "note": data["biaya"].get("keterangan")},
        "internal_supervision": [],
        "legal_basis": [],
        "name": data["nama_layanan"],
        "performance_evaluation": [],
        "permit_code": data.get("kd_izin"),
        "procedure": data["prosedur"],
        "products": data["produk"],
        "requirements": data["persyaratan"],
        "security_guarantee": None,
        "service_guarantee": None,
        "sk_number": None,
        "staff_competence": [],
        "staff_count": None,
        "status": _STATUS_FROM_WIRE[data["status"]],
    }


# Non-ASCII characters that ``str.split`` takes for white space (the ASCII ones are control
# characters, which JSON text escapes).
_WIDE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_CODE = re.compile(CODE_PATTERN)


def canonical_from(data: Mapping[str, Any], *, agency: str) -> CanonicalStandard | None:
    """The standard ``standard_from`` makes of ``data`` with no local entry, kept as its
    canonical content, or None when this cannot vouch for it cheaply.

    ``data`` is an entry read as ``EntryData``. Most entries of a page are plain: their text
    needs no folding and their fee is an ordinary amount. For those, the rules of
    ``ServiceStandard`` that the wire model does not already hold (the code's pattern, required
    lists not empty, text already folded and not empty, the fee's digits) are checked here and
    the canonical content is written directly, which costs a fraction of validating the model
    and dumping it. None sends the entry the ordinary way (``standard_from``), which gives the
    same standard or says why it is not one; so None is always safe, and is returned whenever
    in doubt.
    """
    code = data["id_layanan"]
    if (
        _CODE.fullmatch(code) is None
        or not data["persyaratan"]
        or not data["prosedur"]
        or not data["produk"]
    ):
        return None
    amount = _plain_amount(data["biaya"]["nominal"])
    if amount is None:
        return None
    content = _domain_fields(data, agency=agency, amount=amount)
    try:
        text = to_json(content).decode("utf-8")
    except PydanticSerializationError:  # e.g. a lone surrogate
        return None
    if not folded_already(text):
        return None
    return CanonicalStandard(content, text)


def _plain_amount(amount: Decimal) -> str | None:
    """The canonical text of the wire's ``nominal`` (a ``Nominal``, so already exact) when
    ``Fee`` surely accepts it (at most 16 digits, 2 decimals, not negative, not a negative
    zero), else None."""
    parts = amount.as_tuple()
    exponent = parts.exponent
    if parts.sign or not isinstance(exponent, int) or not -2 <= exponent <= 0:
        return None
    if len(parts.digits) > 16:
        return None
    return decimal_text(amount)


def folded_already(text: str) -> bool:
    """Whether every string in ``text``, compact JSON as ``to_json`` writes it, is left as it is
    by the folding of ``Text`` (white space runs to one space, none at the ends) and is not
    empty. False when unsure: a string with an escape, for one.

    In compact JSON a quote next to a space, two spaces, or two quotes in a row occur only
    inside strings, at their ends, or as an empty string; other ASCII white space is escaped.
    """
    if "\\" in text or "  " in text or '" ' in text or ' "' in text or '""' in text:
        return False
    return text.isascii() or _WIDE_SPACE.search(text) is None


class SharedParts:
    """The complaint handling, fees and completion times built so far, by their content.

    The entries of one region mostly repeat the same few: each distinct one is validated once
    and its (frozen, so immutable) model shared by the standards that hold it. A standard
    validated with a part's model is the same as one validated with the part's data. Keep one
    for a page, not longer, so that it stays small.
    """

    def __init__(self) -> None:
        self._made: dict[tuple[type[BaseModel], bytes], BaseModel] = {}

    def shared(
        self, handling: dict[str, Any], fee: dict[str, Any], completion: dict[str, Any]
    ) -> tuple[ComplaintHandling, Fee, CompletionTime]:
        """The models of these parts' data (as ``standard_from`` builds it)."""
        return (
            self._model(ComplaintHandling, handling),
            self._model(Fee, fee),
            self._model(CompletionTime, completion),
        )

    def _model(self, model: type[M], data: dict[str, Any]) -> M:
        try:
            # The JSON text tells apart any two values that read differently: 1, 1.0, true and
            # "1"; and decimals by their text, so 5000 and 5000.00 (equal, not the same amount).
            key = (model, to_json(data))
        except PydanticSerializationError:  # text JSON cannot hold, e.g. a lone surrogate
            return model.model_validate(data)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = model.model_validate(data)
        return cast(M, made)


def to_wire(
    standard: ServiceStandard, *, kd_daerah: str, agency: str, versi_dasar: int | None
) -> EntryOut:
    """The entry to send for ``standard``; ``versi_dasar`` is the versi we last saw, None creates.

    ``agency`` is the region's own agency: a standard of that agency is sent without
    ``instansi`` (see the module docstring).
    """
    handling = standard.complaint_handling
    amount = standard.fee.amount
    nominal: int | float = int(amount) if amount == amount.to_integral_value() else float(amount)
    return EntryOut(
        id_layanan=standard.code,
        kd_daerah=kd_daerah,
        kd_izin=standard.permit_code,
        nama_layanan=standard.name,
        instansi=None if standard.agency == agency else standard.agency,
        persyaratan=list(standard.requirements),
        prosedur=list(standard.procedure),
        waktu_penyelesaian=WaktuOut(
            nilai=standard.completion_time.value,
            satuan=_UNIT_TO_WIRE[standard.completion_time.unit],
        ),
        biaya=BiayaOut(nominal=nominal, keterangan=standard.fee.note),
        produk=list(standard.products),
        pengaduan=PengaduanOut(
            ketentuan=list(handling.rules),
            tahapan=list(handling.stages),
            kategori=list(handling.categories),
            objek=list(handling.objects),
            prosedur=list(handling.procedure),
            kontak=KontakOut(
                alamat=handling.contact.address,
                telepon=handling.contact.phone,
                situs=handling.contact.website,
            ),
        ),
        status=_STATUS_TO_WIRE[standard.status],
        versi_dasar=versi_dasar,
    )


# The upper-case key each method's request wraps its payload in (DESIGN.md 3.1).
REQUEST_KEYS: dict[str, str] = {
    "getDataReferensi": "GETDATAREFERENSI",
    "inqueryStandarPelayanan": "INQUERYSTANDARPELAYANAN",
    "receiveStandarPelayanan": "STANDARPELAYANAN",
}


def request_body(method: str, payload: BaseModel) -> dict[str, Any]:
    """The request of ``method``: its payload wrapped in the method's key (``REQUEST_KEYS``).

    An absent ``instansi`` is left out rather than sent as null; every other field is sent.
    """
    data = payload.model_dump(mode="json")
    if data.get("instansi", "") is None:
        del data["instansi"]
    return {REQUEST_KEYS[method]: data}


def answer_payload(body: Any, method: str) -> Any:
    """The payload under ``respon{method}``, found whatever the key's case or underscores.

    Raises ``LookupError`` naming the keys present when there is not exactly one such key.
    """
    if not isinstance(body, dict):
        raise LookupError(f"expected a JSON object, got {type(body).__name__}")
    wanted = _fold_key("respon" + method)
    found = [key for key in body if _fold_key(key) == wanted]
    if len(found) != 1:
        raise LookupError(
            f"expected one key 'respon{method}', found {sorted(body)!r}"
            if not found
            else f"found several spellings of 'respon{method}': {found!r}"
        )
    return body[found[0]]


def _fold_key(key: str) -> str:
    return key.replace("_", "").casefold()


def timestamp_to_wire(instant: datetime) -> str:
    """An aware instant as the ISO-8601 text OSS reads."""
    if instant.tzinfo is None:
        raise ValueError(f"{instant!r} has no time zone; pass an aware datetime")
    return instant.isoformat()
