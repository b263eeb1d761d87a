"""Small helpers shared by the handlers: compact JSON answers without per-request validation."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"

# One national endpoint: a request in, an answer out.
Handler = Callable[[Request], Awaitable[Response]]


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type=JSON, headers=headers)


def read_json(raw: bytes) -> tuple[Any, bool]:
    """The parsed body and whether it parsed."""
    try:
        return json.loads(raw), True
    except ValueError:
        return None, False
