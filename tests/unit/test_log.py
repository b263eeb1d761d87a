"""Logs never carry personal data or secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from pydantic import SecretStr

from oss_bridge.log import REDACTED, configure_logging, scrub_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail budi.santoso@example.co.id now", f"mail {REDACTED} now"),
        ("nik 1471020304050607 given", f"nik {REDACTED} given"),
        ("call 0812-3456-7890 today", f"call {REDACTED} today"),
        ("call +62 812 3456 7890", f"call {REDACTED}"),
        ("call 6281234567890", f"call {REDACTED}"),
        ("receipt PGD-1405-20261129-000123 ok", "receipt PGD-1405-20261129-000123 ok"),
        ("attempt 3 of 12 after 0.5 s", "attempt 3 of 12 after 0.5 s"),
        ("run 6b06f1234567890123456c114d ok", "run 6b06f1234567890123456c114d ok"),
        ("run a0812345678901b ok", "run a0812345678901b ok"),
    ],
)
def test_scrubbing_removes_personal_data_and_keeps_the_rest(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def _capture(*, emit: str) -> dict[str, object]:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        if emit == "structlog":
            structlog.get_logger("t").info(
                "complaint received",
                receipt="PGD-1405-20261129-000001",
                reporter={"name": "Budi Santoso", "email": "budi@example.com"},
                phone="081234567890",
                token=SecretStr("s3cret"),
                error="lapor said: duplicate for budi@example.com",
            )
        else:
            logging.getLogger("lib").warning("failed for siti@example.org at 081298765432")
    finally:
        logging.getLogger().handlers.clear()
    line = stream.getvalue().strip().splitlines()[-1]
    parsed: dict[str, object] = json.loads(line)
    return parsed


def test_a_structured_event_logs_as_one_json_line_without_personal_data() -> None:
    event = _capture(emit="structlog")
    text = json.dumps(event)
    assert event["receipt"] == "PGD-1405-20261129-000001"
    for secret in ("Budi", "budi@example.com", "081234567890", "s3cret"):
        assert secret not in text
    assert event["reporter"] == REDACTED


def test_standard_library_records_are_scrubbed_too() -> None:
    event = _capture(emit="stdlib")
    text = json.dumps(event)
    assert "siti@example.org" not in text
    assert "081298765432" not in text
