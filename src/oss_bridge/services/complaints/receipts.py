"""Receipt numbers (nomor tanda terima) of complaints: ``PGD-1405-20261129-000123``.

``PGD`` (pengaduan), the region's code, the day of receipt in Western Indonesia Time and the
sequence number of the complaint within that region and day, at least six digits and wider
beyond 999999, so numbers stay unique and sort by day. The store hands out the sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from oss_bridge.errors import InputError

PREFIX = "PGD"
SEQUENCE_DIGITS = 6
_KD_DAERAH = re.compile(r"[0-9]{2,6}")
_RECEIPT = re.compile(r"PGD-([0-9]{2,6})-([0-9]{8})-([0-9]{6,})")
_EXAMPLE = "PGD-1405-20261129-000123"


@dataclass(frozen=True, slots=True)
class Receipt:
    """The parts of a receipt number; ``str()`` gives its canonical form."""

    kd_daerah: str
    day: date
    seq: int

    def __str__(self) -> str:
        return format_receipt(self.kd_daerah, self.day, self.seq)


def format_receipt(kd_daerah: str, day: date, seq: int) -> str:
    """The receipt number of complaint ``seq`` (from 1) received on ``day`` in ``kd_daerah``."""
    if not _KD_DAERAH.fullmatch(kd_daerah):
        raise ValueError(f"kd_daerah {kd_daerah!r} must be 2 to 6 digits, like '1405'")
    if isinstance(day, datetime):
        raise ValueError(f"day {day!r} must be a date; take the office day of the receipt time")
    if isinstance(seq, bool) or seq < 1:
        raise ValueError(f"seq {seq!r} must be a whole number from 1")
    return f"{PREFIX}-{kd_daerah}-{day:%Y%m%d}-{seq:0{SEQUENCE_DIGITS}d}"


def parse_receipt(text: str) -> Receipt:
    """The parts of a receipt number as a person may type it (any case, spaces around, extra
    leading zeros in the sequence); ``str()`` of the result is the one canonical spelling.

    Raises ``InputError`` saying what a receipt number looks like.
    """
    match = _RECEIPT.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise InputError(
            f"{text!r} is not a receipt number; it looks like {_EXAMPLE!r} "
            "(PGD, region code, date as YYYYMMDD, six-digit number)"
        )
    kd_daerah, day_text, seq_text = match.groups()
    try:
        day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
    except ValueError:
        raise InputError(
            f"{text!r} is not a receipt number: {day_text!r} is not a date (YYYYMMDD)"
        ) from None
    seq = int(seq_text)
    if seq < 1:
        raise InputError(f"{text!r} is not a receipt number: numbering starts at 000001")
    return Receipt(kd_daerah=kd_daerah, day=day, seq=seq)
