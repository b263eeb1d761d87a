"""The ASGI app: the two national systems, the control API, and the fault layer in front.

Requests to the national systems never enter FastAPI: the app's first layer names their
endpoint (``endpoint_of``), counts it, asks the fault plan what happens to it, and hands it to
that endpoint's handler, the way a gateway sits in front of a real system. It either answers
for the system (429, 5xx) or lets the system process the request and then holds back, drops or
corrupts the answer. FastAPI serves only the control API and ``/docs``; its per-request
routing and dependency machinery would cost more than the rest of the mock together
(``bench/bench_mock.py`` measures what is left).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from oss_bridge_mock._control import control_router
from oss_bridge_mock._docs import SECURITY_SCHEMES, national_paths
from oss_bridge_mock._endpoints import OSS_PREFIX, endpoint_of
from oss_bridge_mock._http import Handler, dumps
from oss_bridge_mock._lapor import lapor_handlers
from oss_bridge_mock._oss import oss_handlers
from oss_bridge_mock._runtime import Credentials, Runtime, Sleep
from oss_bridge_mock.faults import Decision, FaultProfile, RateLimit, apply_quirks, corrupt

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

_DESCRIPTION = """\
The national systems as oss-bridge speaks to them (DESIGN.md section 3), in one process.

- **OSS** (PIA conventions) under `/oss/v1/kl/rba/{method}`, header `user_key: demo-user-key`.
- **SP4N-LAPOR!** under `/lapor`, headers `Authorization: Bearer demo-auth-value` and
  `token: demo-token`.
- **Control** under `/_mock`: state and request counts, fault profiles, catalogue edits as OSS
  staff would make them, complaint status moves, the mock clock, reset.
"""

_GATEWAY_TEXT = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised in-process (``httpx.ASGITransport``) where a server would drop the connection.

    The request was processed and stored before; it is the error httpx itself raises when a
    server closes the connection without answering.
    """


class MockApp(FastAPI):
    """FastAPI (control API and docs) behind the fault layer and the national endpoints.

    ``runtime`` holds the mock's state.
    """

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self._handlers: dict[str, Handler] = {**oss_handlers(runtime), **lapor_handlers(runtime)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = endpoint_of(scope["method"], scope["path"])
            if endpoint is not None:
                runtime = self.runtime
                runtime.requests[endpoint] += 1
                decision = runtime.plan.decide(endpoint)
                if decision is None:
                    response = await self._handlers[endpoint](Request(scope, receive))
                    await response(scope, receive, send)
                else:
                    await self._faulty(scope, receive, send, endpoint, decision)
                return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            schema["paths"] = {**national_paths(), **schema.get("paths", {})}
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            self.openapi_schema = schema
        return self.openapi_schema

    async def _faulty(
        self, scope: Scope, receive: Receive, send: Send, endpoint: str, decision: Decision
    ) -> None:
        runtime = self.runtime
        if decision.latency_seconds > 0:
            await runtime.sleep(decision.latency_seconds)
        if decision.rate_limited is not None:
            await _drain(receive)
            now = runtime.clock.now()
            await _send_answer(send, _rate_limited(scope, decision.rate_limited, now))
            return
        if decision.error_status is not None:
            await _drain(receive)
            await _send_answer(send, _failure(scope, decision.error_status))
            return

        response = await self._handlers[endpoint](Request(scope, receive))
        status, headers, body = response.status_code, response.raw_headers, bytes(response.body)

        late = decision.after_commit
        if late is not None:
            if late.mode == "drop":
                await _drop_connection(send)
                return
            await runtime.sleep(late.hang_seconds)
        if decision.malformed is not None and 200 <= status < 300:
            body = corrupt(body, decision.malformed, decision.detail)
        if endpoint.startswith(f"POST {OSS_PREFIX}") and (
            decision.kode_as_string or decision.alt_spelling is not None
        ):
            body = apply_quirks(
                body, kode_as_string=decision.kode_as_string, alt_spelling=decision.alt_spelling
            )
        await _send_answer(send, (status, headers, body))


async def _send_answer(send: Send, answer: Answer) -> None:
    status, headers, body = answer
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _drain(receive: Receive) -> None:
    """Read the request body the system never looks at, so the connection stays usable."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _drop_connection(send: Send) -> None:
    # Under uvicorn the server's own send carries the connection; aborting it closes the socket
    # without a byte of answer. Raising instead would make the server answer 500.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.Transport):
        transport.abort()
        # Let the server notice the loss before the app returns, so it writes nothing more.
        for _ in range(3):
            await asyncio.sleep(0)
        return
    raise ConnectionDropped(
        "the mock processed and stored the request, then dropped the connection "
        "(fault timeout_after_commit, mode drop)"
    )


def _oss_method(scope: Scope) -> str | None:
    path: str = scope["path"]
    return path[len(OSS_PREFIX) :] if path.startswith(OSS_PREFIX) else None


def _json_headers(*extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), *extra]


def _rate_limited(scope: Scope, limit: RateLimit, now: datetime) -> Answer:
    if limit.form == "seconds":
        retry_after = str(limit.retry_after_seconds)
    else:
        retry_after = format_datetime(
            now + timedelta(seconds=limit.retry_after_seconds), usegmt=True
        )
    headers = _json_headers((b"retry-after", retry_after.encode()))
    method = _oss_method(scope)
    body: dict[str, Any] = {"message": "Too Many Attempts."}
    if method is not None:
        body = {f"respon{method}": {"kode": 429, "keterangan": "Too many requests; slow down"}}
    return 429, headers, dumps(body)


def _failure(scope: Scope, status: int) -> Answer:
    method = _oss_method(scope)
    if status == 500 and method is not None:
        body = {f"respon{method}": {"kode": 500, "keterangan": "OSS processing failed"}}
        return 500, _json_headers(), dumps(body)
    if status == 504 and method is not None:
        body = {f"respon{method}": {"kode": 504, "keterangan": "OSS processing timed out"}}
        return 504, _json_headers(), dumps(body)
    if status == 500:
        return 500, _json_headers(), dumps({"message": "Server Error"})
    # What a gateway in front of either system answers by itself.
    text = _GATEWAY_TEXT[status]
    page = (
        f"<html>\r\n<head><title>{text}</title></head>\r\n<body>\r\n"
        f"<center><h1>{text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return status, [(b"content-type", b"text/html")], page.encode()


def create_app(
    *,
    faults: FaultProfile | None = None,
    seed: int = 0,
    generate_catalogue: int = 0,
    clock: Callable[[], datetime] | None = None,
    sleep: Sleep | None = None,
    auto_advance_seconds: float | None = None,
    credentials: Credentials | None = None,
) -> FastAPI:
    """The mock national systems as one ASGI app, with in-memory state seeded from package data.

    ``faults``: the profile in force at start and after ``/_mock/reset`` (None: faithful).
    ``seed``: seeds the generated catalogue, and the fault decisions when the profile has none.
    ``generate_catalogue``: that many synthetic entries for region 1405, beside the seed ones.
    ``clock``: the time (aware, or naive UTC); ``/_mock/clock`` moves the mock's time on from it.
    ``sleep``: every wait inside the mock (latency, hang); tests inject one that does not wait.
    ``auto_advance_seconds``: move each complaint one status on after this much mock time.
    ``credentials``: what the mock accepts; defaults to the demo credentials.
    """
    runtime = Runtime(
        faults=faults,
        seed=seed,
        generate_catalogue=generate_catalogue,
        clock=clock,
        sleep=sleep,
        auto_advance_seconds=auto_advance_seconds,
        credentials=credentials or Credentials(),
    )
    app = MockApp(
        runtime,
        title="oss-bridge mock national systems",
        description=_DESCRIPTION,
        version="1",
    )
    app.include_router(control_router(runtime))

    @app.get("/", include_in_schema=False)
    async def index() -> dict[str, str]:
        return {
            "oss": OSS_PREFIX.rstrip("/"),
            "lapor": "/lapor",
            "control": "/_mock",
            "docs": "/docs",
        }

    return app
