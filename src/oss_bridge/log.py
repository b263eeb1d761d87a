"""Structured logging: JSON lines on stdout, one event per job run and per attempt.

Personal data never reaches a log line. Two layers make sure of it: keys that hold personal data
(``reporter``, ``email``, ``phone``, ``nik`` ...) are replaced wholesale, and every string value is
scrubbed of anything shaped like an e-mail address, an Indonesian phone number or a NIK (16-digit
national id), since free text such as an error message can carry them too.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from pydantic import SecretStr

REDACTED = "[redacted]"

PERSONAL_KEYS = frozenset(
    {
        "reporter",
        "reporter_name",
        "reporter_email",
        "reporter_phone",
        "name",
        "email",
        "phone",
        "nik",
        "address",
        "content",
        "description",
        "authorization",
        "token",
        "user_key",
        "auth_value",
        "password",
        "api_key",
        "admin_token",
        "staff_token",
    }
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Word boundaries, not digit ones: a hex id such as a run id may hold a run of 16 digits.
_NIK = re.compile(r"(?<![\w])\d{16}(?![\w])")
_PHONE = re.compile(r"(?<![\w])(?:\+62|62|0)[\s-]?8\d(?:[\s-]?\d){6,11}(?![\w])")


def scrub_text(text: str) -> str:
    """``text`` with e-mail addresses, NIKs and mobile phone numbers replaced by ``[redacted]``."""
    text = _EMAIL.sub(REDACTED, text)
    text = _NIK.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def _scrub(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in PERSONAL_KEYS else _scrub(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_personal_data(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: drop personal data and secrets from every event."""
    for key in list(event_dict):
        if key.lower() in PERSONAL_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure_logging(
    *, level: str = "INFO", fmt: str = "json", stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library's logging through one redacting pipeline."""
    stream = stream or sys.stdout
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs carry query strings and client addresses; the daemon logs its own request events.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # At DEBUG it logs every statement with its parameters: complaints, names and all.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
