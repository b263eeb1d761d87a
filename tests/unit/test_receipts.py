"""Receipt numbers of complaints: how they are written and read back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oss_bridge.domain.complaint import RECEIPT_PATTERN
from oss_bridge.errors import InputError
from oss_bridge.services.complaints.receipts import Receipt, format_receipt, parse_receipt

DAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("kd_daerah", "day", "seq", "expected"),
    [
        ("1405", DAY, 123, "PGD-1405-20261129-000123"),
        ("1405", DAY, 1, "PGD-1405-20261129-000001"),
        ("1405", DAY, 999_999, "PGD-1405-20261129-999999"),
        ("1405", DAY, 1_000_000, "PGD-1405-20261129-1000000"),
        ("14", date(2027, 1, 5), 7, "PGD-14-20270105-000007"),
        ("140501", DAY, 42, "PGD-140501-20261129-000042"),
    ],
)
def test_a_receipt_number_names_region_day_and_sequence(
    kd_daerah: str, day: date, seq: int, expected: str
) -> None:
    assert format_receipt(kd_daerah, day, seq) == expected


@pytest.mark.parametrize("seq", [1, 123, 999_999, 1_000_000, 12_345_678])
def test_every_receipt_number_fits_the_pattern_the_domain_accepts(seq: int) -> None:
    assert re.match(RECEIPT_PATTERN, format_receipt("1405", DAY, seq))


def test_receipt_numbers_of_one_region_sort_by_day_then_sequence() -> None:
    issued = [
        format_receipt("1405", date(2026, 11, 28), 999_999),
        format_receipt("1405", DAY, 1),
        format_receipt("1405", DAY, 2),
        format_receipt("1405", date(2026, 12, 1), 1),
    ]

    assert sorted(issued) == issued


@pytest.mark.parametrize(
    ("kd_daerah", "day", "seq", "message"),
    [
        ("1", DAY, 1, "kd_daerah '1' must be 2 to 6 digits"),
        ("1234567", DAY, 1, "kd_daerah '1234567' must be 2 to 6 digits"),
        ("14a5", DAY, 1, "kd_daerah '14a5' must be 2 to 6 digits"),
        ("1405\n", DAY, 1, "must be 2 to 6 digits"),
        ("\u0661\u0664\u0660\u0665", DAY, 1, "must be 2 to 6 digits"),
        ("1405", DAY, 0, "seq 0 must be a whole number from 1"),
        ("1405", DAY, -3, "seq -3 must be a whole number from 1"),
        ("1405", DAY, True, "seq True must be a whole number from 1"),
        ("1405", datetime(2026, 11, 29, 20, tzinfo=UTC), 1, "must be a date"),
    ],
)
def test_a_receipt_number_from_bad_parts_is_refused(
    kd_daerah: str, day: date, seq: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        format_receipt(kd_daerah, day, seq)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PGD-1405-20261129-000123", Receipt("1405", DAY, 123)),
        ("PGD-1405-20261129-1000000", Receipt("1405", DAY, 1_000_000)),
        ("  pgd-1405-20261129-000123\n", Receipt("1405", DAY, 123)),
        ("PGD-14-20280229-000001", Receipt("14", date(2028, 2, 29), 1)),
    ],
)
def test_a_receipt_number_is_read_back_into_its_parts(text: str, expected: Receipt) -> None:
    assert parse_receipt(text) == expected


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("pgd-1405-20261129-000123", "PGD-1405-20261129-000123"),
        ("PGD-1405-20261129-0000123", "PGD-1405-20261129-000123"),
    ],
)
def test_a_receipt_number_typed_loosely_reads_back_in_its_one_spelling(
    text: str, canonical: str
) -> None:
    assert str(parse_receipt(text)) == canonical


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is not a receipt number; it looks like 'PGD-1405-20261129-000123'"),
        ("123", "is not a receipt number; it looks like"),
        ("PGD-1405-20261129-12345", "is not a receipt number; it looks like"),
        ("PGD-1405-2026-11-29-000123", "is not a receipt number; it looks like"),
        ("PGD-1-20261129-000123", "is not a receipt number; it looks like"),
        ("ADU-1405-20261129-000123", "is not a receipt number; it looks like"),
        ("PGD-1405-20261129-000123-2", "is not a receipt number; it looks like"),
        ("PGD 1405 20261129 000123", "is not a receipt number; it looks like"),
        ("PGD-\u0661\u0664-20261129-000123", "is not a receipt number; it looks like"),
        ("PGD-1405-20261399-000123", "'20261399' is not a date"),
        ("PGD-1405-20270229-000123", "'20270229' is not a date"),
        ("PGD-1405-20261129-000000", "numbering starts at 000001"),
    ],
)
def test_a_malformed_receipt_number_is_refused_showing_it(text: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_receipt(text)

    assert repr(text) in str(caught.value)
    assert problem in str(caught.value)


def test_a_receipt_number_that_is_not_text_is_refused() -> None:
    with pytest.raises(InputError, match="123 is not a receipt number"):
        parse_receipt(123)  # type: ignore[arg-type]


@given(
    kd_daerah=st.from_regex(r"\A[0-9]{2,6}\Z"),
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2999, 12, 31)),
    seq=st.integers(min_value=1, max_value=10**9),
)
def test_every_receipt_number_reads_back_into_the_parts_it_was_made_of(
    kd_daerah: str, day: date, seq: int
) -> None:
    receipt = parse_receipt(format_receipt(kd_daerah, day, seq))

    assert receipt == Receipt(kd_daerah, day, seq)
