"""Errors of the HTTP surfaces: one rendering per surface, one handler per branch of the tree.

The intake JSON API answers ``{"message": "...", "errors": {"field.path": ["..."]}}``; the
Open311 surface (``/open311/...``) answers the standard's list of ``{code, description}``, as
JSON or as ``<errors><error><code/><description/></error></errors>`` after the path's format.

Status codes: bad input 422 on the API and 400 on Open311 (the standard's code); ``NotFound``
404; the database unreachable or its schema outdated 503; any other ``BridgeError`` 500 with
its message; anything unexpected 500 with a generic message and the traceback in the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from oss_bridge.api._xml import XML_MEDIA_TYPE, render_xml
from oss_bridge.errors import (
    BridgeError,
    DatabaseUnavailable,
    FieldErrors,
    InputError,
    NotFound,
    SchemaOutdated,
)
from oss_bridge.log import get_logger

OPEN311_PREFIX = "/open311/"

Format = Literal["json", "xml"]

_log = get_logger(__name__)


def is_open311(path: str) -> bool:
    return path.startswith(OPEN311_PREFIX)


def format_of(path: str) -> Format:
    """The answer format an Open311 path asks for: ``xml`` for ``*.xml``, else ``json``."""
    return "xml" if path.endswith(".xml") else "json"


def open311_response(root: str, content: object, fmt: Format, status_code: int = 200) -> Response:
    """An Open311 answer: ``content`` as JSON, or as XML under the element ``root``."""
    if fmt == "xml":
        return Response(render_xml(root, content), status_code, media_type=XML_MEDIA_TYPE)
    return JSONResponse(content, status_code)


def open311_errors(
    errors: Sequence[tuple[int, str]], fmt: Format, status_code: int | None = None
) -> Response:
    """The standard's error list; the HTTP status is the first error's code unless given."""
    listed = [{"code": code, "description": description} for code, description in errors]
    return open311_response("errors", listed, fmt, status_code or errors[0][0])


def error_response(
    path: str,
    status_code: int,
    message: str,
    errors: Mapping[str, Sequence[str]] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error answer for a request to ``path``, in the shape of its surface."""
    if is_open311(path):
        listed = [
            (status_code, f"{field}: {text}")
            for field, texts in (errors or {}).items()
            for text in texts
        ] or [(status_code, message)]
        response = open311_errors(listed, format_of(path), status_code)
    else:
        response = JSONResponse(
            {
                "message": message,
                "errors": {field: list(texts) for field, texts in (errors or {}).items()},
            },
            status_code,
        )
    if headers:
        response.headers.update(headers)
    return response


def _input_status(path: str) -> int:
    return 400 if is_open311(path) else 422


async def _field_errors(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FieldErrors)
    path = request.url.path
    return error_response(path, _input_status(path), str(exc), exc.errors)


async def _input_error(request: Request, exc: Exception) -> Response:
    path = request.url.path
    return error_response(path, _input_status(path), str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request.url.path, 404, str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    _log.warning("request_failed", path=request.url.path, status=503, reason=str(exc))
    return error_response(request.url.path, 503, str(exc), headers={"Retry-After": "30"})


async def _bridge_error(request: Request, exc: Exception) -> Response:
    _log.error("request_failed", path=request.url.path, status=500, reason=str(exc))
    return error_response(request.url.path, 500, str(exc))


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in ("query", "path", "header", "body"):
            location = location[1:]
        errors.setdefault(".".join(location) or "(request)", []).append(str(error.get("msg")))
    path = request.url.path
    message = f"the request was not accepted; correct {', '.join(errors)} as the errors say"
    return error_response(path, _input_status(path), message, errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"there is nothing at {request.url.path!r}; check the address"
    elif exc.status_code == 405 and message == "Method Not Allowed":
        message = f"{request.method} is not accepted at {request.url.path!r}"
    return error_response(request.url.path, exc.status_code, message, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    _log.error("request_crashed", path=request.url.path, error=type(exc).__name__, exc_info=exc)
    return error_response(
        request.url.path,
        500,
        "the bridge failed on this request; nothing was stored if it was a new complaint. "
        "Try again, and tell the office's operator if it happens again (the server log has "
        "the details)",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of this module on ``app``."""
    app.add_exception_handler(FieldErrors, _field_errors)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(SchemaOutdated, _unavailable)
    app.add_exception_handler(BridgeError, _bridge_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
