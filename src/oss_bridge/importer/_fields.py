"""Reading single fields of a page: completion time, fee, products, complaint objects, staff.

Pure functions over the published text. Each raises ``ValueError`` whose message quotes the text
it could not read and the form it expects; the page parser adds which page it was.
"""

from __future__ import annotations

import re
from decimal import Decimal

from oss_bridge.domain import CompletionTime, Fee
from oss_bridge.importer._text import fold, trim_enumeration

_TIME_FORMS = "a number of days such as '5 Hari', '1 (satu) hari' or '14 Hari Kerja'"

_DURATION = re.compile(
    r"""
    (?:(?:paling\ lama|paling\ lambat|selambat-lambatnya|maksimal|maksimum|maks\.?
        |kurang\ lebih|sekitar|±)\s*)?
    (?:[a-z][a-z ]*?\s*\(\s*(?P<after_word>\d+)\s*\)      # "lima (5)"
      |(?P<number>\d+)(?:\s*\(\s*[a-z][a-z ]*\))?)         # "5" or "5 (lima)"
    \s*(?P<unit>hari\ kerja|hari\ kalender|hari|jam|menit|minggu|pekan|bulan|tahun)\b
    (?P<rest>.*)
    """,
    re.VERBOSE,
)
# What may follow the duration: nothing, or when the count starts ("sejak berkas lengkap").
_WHEN = re.compile(r"[\s,(]*(?:sejak|setelah|sesudah|terhitung)\b.*|[\s.;,]*")


def parse_completion_time(text: str) -> CompletionTime:
    """Waktu Penyelesaian as published, e.g. ``5 Hari`` or ``14 Hari Kerja``.

    ``Hari`` (or ``Hari Kalender``) is calendar days, ``Hari Kerja`` working days. Weeks become
    seven days. Hours and minutes are read only when they make whole days (``24 Jam`` is one
    day): a service standard counts days, and rounding a published promise would change it.
    Months and years are refused for the same reason: their length in days varies.
    """
    folded = fold(text)
    match = _DURATION.fullmatch(folded.casefold())
    if match is None or _WHEN.fullmatch(match.group("rest")) is None:
        raise ValueError(f"cannot read the completion time {folded!r}: expected {_TIME_FORMS}")
    count = int(match.group("number") or match.group("after_word"))
    unit = match.group("unit")
    if unit == "hari kerja":
        return CompletionTime(value=count, unit="working_day")
    if unit in ("hari", "hari kalender"):
        return CompletionTime(value=count, unit="day")
    if unit in ("minggu", "pekan"):
        return CompletionTime(value=count * 7, unit="day")
    per_day = {"jam": 24, "menit": 24 * 60}.get(unit)
    if per_day is not None and count % per_day == 0:
        return CompletionTime(value=count // per_day, unit="day")
    raise ValueError(
        f"the completion time {folded!r} is not a whole number of days, and a service standard"
        f" counts days or working days: have the page state it as {_TIME_FORMS}"
    )


_FREE = re.compile(
    r"\b(?:tidak\s+(?:dipungut|dikenakan|dikenai|ada)\s+biaya|tanpa\s+(?:dipungut\s+)?biaya"
    r"|bebas\s+biaya|gratis|nihil|tidak\s+berbayar)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?:\b(?:rp|idr)\.?\s*(?P<prefixed>\d{1,3}(?:\.\d{3})+|\d+)"
    r"|\b(?P<suffixed>\d{1,3}(?:\.\d{3})+|\d+)(?=(?:,-+|,\d{1,2})?\s*rupiah\b))"
    r"(?P<tail>,-+|,\d+|\.\d+)?",
    re.IGNORECASE,
)
_FEE_FORMS = "'Tidak dipungut biaya', 'Gratis' or one amount such as 'Rp 150.000,-'"


def _amounts(text: str) -> list[Decimal]:
    amounts = []
    for match in _AMOUNT.finditer(text):
        whole = (match.group("prefixed") or match.group("suffixed")).replace(".", "")
        tail = match.group("tail") or ""
        if tail.startswith(".") or (tail[1:].isdigit() and len(tail) > 3):
            # "Rp 1.50" or "Rp 150,000": not the Indonesian way of writing rupiah.
            raise ValueError(
                f"cannot read the amount {match.group(0)!r} in the fee {text!r}: write rupiah with"
                " '.' between thousands and ',' before cents, e.g. 'Rp 150.000,-'"
            )
        cents = tail[1:] if tail[1:].isdigit() else ""
        amounts.append(Decimal(f"{whole}.{cents}" if cents else whole))
    return amounts


def parse_fee(text: str) -> Fee:
    """Biaya / Tarif as published: free (``Tidak dipungut biaya``, ``Gratis``, ``Rp 0``) or one
    amount in rupiah with Indonesian separators (``Rp 150.000,-`` is 150000, ``Rp 2.500,50`` is
    2500.50). The note keeps the published text whole."""
    folded = fold(text)
    amounts = _amounts(folded)
    charged = sorted({amount for amount in amounts if amount != 0})
    if _FREE.search(folded) and charged:
        raise ValueError(
            f"the fee {folded!r} says the service is free and also names an amount: expected"
            f" {_FEE_FORMS}"
        )
    if len(charged) > 1:
        raise ValueError(
            f"the fee {folded!r} names several amounts, and a service standard holds one:"
            f" expected {_FEE_FORMS}"
        )
    if charged:
        return Fee(amount=charged[0], note=folded)
    if amounts or _FREE.search(folded):
        return Fee(amount=Decimal(0), note=folded)
    raise ValueError(f"cannot read the fee {folded!r}: expected {_FEE_FORMS}")


_MAX_PRODUCT_WORDS = 8


def split_products(products: list[str]) -> list[str]:
    """The products of a page, a single short ``A dan B`` item split in two.

    Pages often publish two documents as one list item (``NIB dan Sertifikat Standar``). The
    item is split only when it is the only one, has at most eight words, holds exactly one
    `` dan `` between two capitalised names, and no punctuation (``,;:()``), so that a longer
    description that merely contains "dan" stays whole.
    """
    phrases = [trim_enumeration(product) for product in products]
    phrases = [phrase for phrase in phrases if phrase]
    if len(phrases) != 1:
        return phrases
    only = phrases[0]
    parts = only.split(" dan ")
    if (
        len(parts) == 2
        and len(only.split()) <= _MAX_PRODUCT_WORDS
        and not re.search(r"[,;:()]", only)
        and all(part[:1].isupper() for part in parts)
    ):
        return parts
    return phrases


def split_objects(text: str) -> list[str]:
    """``Objek Pengaduan`` as one line, split on commas and ``dan/atau``.

    A bare ``atau`` or ``dan`` stays: it may belong to one object ("profesi ahli yang
    bersertifikat atau terakreditasi").
    """
    parts = re.split(r"\s*[,;]\s*|\s+dan\s*/\s*atau\s+", fold(text))
    objects = []
    for part in parts:
        phrase = trim_enumeration(re.sub(r"^(?:dan\s*/\s*atau|dan|atau)\s+", "", part))
        if phrase:
            objects.append(phrase)
    return objects


def parse_staff_count(items: list[str]) -> int:
    """Jumlah Pelaksana: the first number of each item, summed (``5 orang``; or one line per
    role, ``Front office: 2 orang``). Items without a number (an introduction) are skipped."""
    counts = [int(found.group()) for item in items if (found := re.search(r"\d+", item))]
    if not counts:
        published = fold(" ".join(items))
        raise ValueError(
            f"cannot read the number of staff {published!r}: expected a count such as '5 orang'"
        )
    return sum(counts)
