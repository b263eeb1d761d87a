"""OSS under ``/oss``: the PIA conventions of DESIGN.md 3.1.

Every call is ``POST /oss/v1/kl/rba/{method}`` with header ``user_key`` and a body wrapping its
payload in one upper-case key (``GETDATAREFERENSI``, ``INQUERYSTANDARPELAYANAN``,
``STANDARPELAYANAN``); every answer wraps its payload in ``respon{method}`` with ``kode`` (also
the HTTP status) and ``keterangan``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from oss_bridge_mock._catalogue import (
    CatalogueInputError,
    Conflict,
    decode_cursor,
    encode_cursor,
)
from oss_bridge_mock._endpoints import OSS_METHODS, OSS_PREFIX, OSS_UNKNOWN, OSS_WRAPPERS
from oss_bridge_mock._http import Handler, json_answer, read_json
from oss_bridge_mock._runtime import Runtime
from oss_bridge_mock._time import parse_aware

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000
_REGION = re.compile(r"^\d{2,6}$")

Outcome = tuple[int, str, dict[str, Any]]


def pia_answer(method: str, kode: int, keterangan: str, **payload: Any) -> Response:
    """An answer in the PIA envelope; ``kode`` is also the HTTP status."""
    return json_answer(
        {f"respon{method}": {"kode": kode, "keterangan": keterangan, **payload}}, status=kode
    )


def oss_handlers(rt: Runtime) -> dict[str, Handler]:
    """The handler of each OSS endpoint name."""

    def referensi(payload: dict[str, Any]) -> Outcome:
        kode = payload.get("kode")
        if isinstance(kode, bool) or not isinstance(kode, int | str) or str(kode) == "":
            raise CatalogueInputError(f"kode {kode!r} is required: the reference table, e.g. 8")
        rows = rt.referensi.get(str(kode).strip())
        if rows is None:
            raise CatalogueInputError(
                f"kode {kode!r} is not a reference table; known: {', '.join(sorted(rt.referensi))}"
            )
        return 200, "Sukses", {"dataReferensi": rows}

    def inquery(payload: dict[str, Any]) -> Outcome:
        region = payload.get("kd_daerah")
        if not isinstance(region, str | int) or not _REGION.match(str(region)):
            raise CatalogueInputError(f"kd_daerah {region!r} must be a region code like '1405'")
        sejak = payload.get("sejak")
        since = None
        if sejak is not None:
            if not isinstance(sejak, str):
                raise CatalogueInputError(f"sejak {sejak!r} must be an ISO-8601 text or null")
            try:
                since = parse_aware(sejak)
            except ValueError as exc:
                raise CatalogueInputError(f"sejak: {exc}") from None
        cursor = payload.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise CatalogueInputError(f"cursor {cursor!r} must be the text OSS gave out, or null")
        limit = payload.get("limit")
        if limit is None:
            limit = DEFAULT_LIMIT
        if isinstance(limit, str) and limit.isdigit():
            limit = int(limit)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise CatalogueInputError(
                f"limit {limit!r} must be a whole number from 1 to {MAX_LIMIT}"
            )
        entries, next_key = rt.catalogue.page(
            str(region),
            sejak=since,
            after=decode_cursor(cursor) if cursor is not None else None,
            limit=limit,
        )
        next_cursor = encode_cursor(next_key) if next_key is not None else None
        return 200, "Sukses", {"data": entries, "next_cursor": next_cursor}

    def receive(payload: dict[str, Any]) -> Outcome:
        outcome = rt.catalogue.receive(payload)
        if isinstance(outcome, Conflict):
            return 409, f"Conflict: {outcome.reason}", {"data": outcome.current}
        entry = outcome.entry
        return (
            200,
            "Sukses",
            {
                "id_layanan": entry["id_layanan"],
                "versi": entry["versi"],
                "diperbarui": entry["diperbarui"],
                "data": entry,
            },
        )

    def pia_method(method: str, work: Callable[[dict[str, Any]], Outcome]) -> Handler:
        wrapper = OSS_WRAPPERS[method]

        async def handle(request: Request) -> Response:
            if request.headers.get("user_key") != rt.credentials.user_key:
                return pia_answer(
                    method,
                    401,
                    "Invalid user access: send the user_key header with the key OSS issued "
                    "(oss.user_key in the bridge's config)",
                )
            document, parsed = read_json(await request.body())
            payload = document.get(wrapper) if isinstance(document, dict) else None
            if not parsed or not isinstance(payload, dict):
                return pia_answer(
                    method, 400, f'Bad parameters: wrap the payload as {{"{wrapper}": {{...}}}}'
                )
            try:
                kode, keterangan, extra = work(payload)
            except CatalogueInputError as exc:
                return pia_answer(method, 400, f"Bad parameters: {exc}")
            return pia_answer(method, kode, keterangan, **extra)

        return handle

    async def unknown_method(request: Request) -> Response:
        method = request.url.path[len(OSS_PREFIX) :]
        return pia_answer(method, 404, f"Service not found: OSS has no method {method!r}")

    works = dict(zip(OSS_METHODS, (referensi, inquery, receive), strict=True))
    handlers = {f"POST {OSS_PREFIX}{m}": pia_method(m, work) for m, work in works.items()}
    handlers[OSS_UNKNOWN] = unknown_method
    return handlers
