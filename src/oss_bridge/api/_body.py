"""Request bodies: the size limit, the content type, and decoding, before any parsing.

``BodyLimit`` wraps the whole application. A declared ``Content-Length`` above the limit is
refused with 413 before a byte is read; a body that grows past the limit while it streams in
(chunked, or a lying length) is cut off, and whatever the application was about to answer is
replaced by the same 413. Either way no handler ever sees a body over the limit.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oss_bridge.api.errors import error_response
from oss_bridge.errors import FieldErrors

JSON_MEDIA_TYPE = "application/json"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 200


class _BodyTooLarge(Exception):
    """Raised into the application when its body outgrows the limit; never leaves ``BodyLimit``."""


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` with 413 (see module docstring)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes {max_bytes!r} must be a positive number of bytes")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isascii() or not declared.strip().isdecimal():
                response = error_response(
                    path, 400, f"Content-Length {declared!r} is not a number of bytes"
                )
                await response(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send, f"the body has {int(declared)} bytes")
                return

        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the application's answer to a cut-off body; the 413 below replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not started:
            await self._refuse(scope, receive, send, f"the body grew past {self.max_bytes} bytes")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, what: str) -> None:
        message = (
            f"{what}; at most {self.max_bytes} bytes are accepted (api.max_body_bytes): "
            "shorten the description"
        )
        response = error_response(scope["path"], 413, message, headers={"Connection": "close"})
        await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower case; ``""`` if it sent none."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def require_media_type(request: Request, wanted: str, example: str) -> None:
    """Raise a 415 ``HTTPException`` unless the body is declared as ``wanted``."""
    got = media_type(request)
    if got != wanted:
        shown = repr(got) if got else "none"
        raise HTTPException(
            415, f"the body must be sent as {wanted} ({example}); the Content-Type was {shown}"
        )


async def read_json(request: Request) -> Any:
    """The request's JSON body; 415 unless it is declared JSON, ``FieldErrors`` if malformed."""
    require_media_type(request, JSON_MEDIA_TYPE, "Content-Type: application/json")
    body = await request.body()
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        problem = f"{exc.msg} at line {exc.lineno}, column {exc.colno} (character {exc.pos})"
    except UnicodeDecodeError as exc:
        problem = f"byte {exc.start} is not UTF-8 text"
    except RecursionError:
        problem = "it is nested too deeply"
    raise FieldErrors(
        f"the body is not valid JSON: {problem}; send one JSON object",
        errors={"(body)": [f"not valid JSON: {problem}"]},
    )


async def read_form(request: Request) -> dict[str, str]:
    """The request's form fields (``application/x-www-form-urlencoded``), last value winning.

    415 for another content type; ``FieldErrors`` for a body that is not UTF-8 or has more
    than ``MAX_FORM_FIELDS`` fields.
    """
    require_media_type(request, FORM_MEDIA_TYPE, "form-encoded, as Open311 requires")
    body = await request.body()
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except UnicodeDecodeError as exc:
        problem = f"byte {exc.start} is not UTF-8 text; encode the form as UTF-8"
    except ValueError:
        problem = f"it has more than {MAX_FORM_FIELDS} fields"
    else:
        return dict(pairs)
    raise FieldErrors(
        f"the form cannot be read: {problem}", errors={"(body)": [f"cannot be read: {problem}"]}
    )
