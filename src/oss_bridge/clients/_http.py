"""The transport core both clients share: one pooled httpx client, one retry loop, one translation.

Everything that can go wrong below a client is turned here into a class of the one exception tree
(``oss_bridge.errors``), with ``raise ... from exc``:

- the request never left (connection refused, connect or pool timeout): ``TransportError``;
- the request left and no answer came (read timeout, connection dropped, write interrupted):
  ``OutcomeUnknown`` for a call with an effect (a create), ``TransportError`` for a read;
- an answer came: the client's ``parse`` function reads it, with ``Answer``'s helpers for the
  parts both systems share (401, 429/503 with ``Retry-After``, 5xx, unreadable bodies).
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import httpx
from httpx import USE_CLIENT_DEFAULT
from httpx._client import UseClientDefault
from pydantic import ValidationError
from pydantic_core import from_json

from oss_bridge.clients._pool import PooledTransport
from oss_bridge.clients.retry import RetryPolicy, RetryRuntime, parse_retry_after
from oss_bridge.config import HttpSettings
from oss_bridge.errors import (
    AuthenticationFailed,
    ConfigError,
    ExternalSystemError,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    System,
    TransportError,
)

T = TypeVar("T")
E = TypeVar("E", bound=ExternalSystemError)

EXCERPT_CHARS = 300
REQUEST_ID_HEADER = "X-Request-ID"

# Failures that prove the request never reached the server: safe to repeat for any call.
_BEFORE_SEND: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.LocalProtocolError,
    httpx.UnsupportedProtocol,
)


def build_http_client(
    settings: HttpSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one pooled ``httpx.AsyncClient`` for one national system in this process.

    Base URL, timeouts (connect, read, write, pool) and pool size come from ``settings``. Pass
    ``transport`` to talk to something other than the network, e.g.
    ``httpx.ASGITransport(app=create_app())``. The caller owns the client and closes it.

    Direct connections go through ``PooledTransport`` (see ``oss_bridge.clients._pool``). When
    the environment names a proxy (``HTTPS_PROXY``, ``ALL_PROXY``, ...), httpx's own transports
    are kept, so the proxy and ``NO_PROXY`` apply exactly as httpx reads them.
    """
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.write_timeout,
        pool=settings.pool_timeout,
    )
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_connections,
    )
    if transport is None and not _proxies_in_environment():
        transport = PooledTransport(limits)
    return httpx.AsyncClient(
        base_url=settings.base_url,
        timeout=timeout,
        limits=limits,
        transport=transport,
        follow_redirects=False,
    )


def _proxies_in_environment() -> bool:
    """Whether the environment names a proxy for any scheme httpx would use one for."""
    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https", "all"))


def excerpt_of(content: bytes) -> str:
    """The start of a raw body, as text, for error messages and ``MalformedResponse.excerpt``."""
    text = content[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."


@dataclass(frozen=True)
class Answer:
    """One HTTP answer with what every error built from it must carry."""

    system: System
    endpoint: str
    response: httpx.Response
    request_id: str
    now: Callable[[], datetime]

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def excerpt(self) -> str:
        return excerpt_of(self.response.content)

    def error(self, cls: type[E], message: str, *, status: int | None = None, **extra: Any) -> E:
        """An error of class ``cls`` about this answer (``status`` overrides the HTTP status)."""
        return cls(
            message,
            system=self.system,
            endpoint=self.endpoint,
            status=self.status if status is None else status,
            request_id=self.request_id,
            **extra,
        )

    def malformed(self, problem: str) -> MalformedResponse:
        return self.error(
            MalformedResponse,
            f"the answer cannot be read ({problem}); it starts {self.excerpt!r}. "
            "If this persists, the system's API has changed: report it with this excerpt",
            excerpt=self.excerpt,
        )

    def json(self) -> Any:
        """The body as JSON; ``MalformedResponse`` when it is not JSON."""
        content = self.response.content
        try:
            # The compiled parser reads a large page several times faster; it refuses a few
            # texts the standard library reads (a lone surrogate escape), which are read as before.
            return from_json(content)
        except ValueError:
            pass
        try:
            return json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.malformed(f"not JSON: {exc}") from exc

    def retry_after(self) -> float | None:
        """The ``Retry-After`` hint in seconds, read against the answer's own ``Date``."""
        now = self.now()
        date = self.response.headers.get("date")
        if date:
            try:
                now = parsedate_to_datetime(date)
            except (TypeError, ValueError, IndexError, OverflowError):
                pass  # a broken Date header is no reason to refuse the hint; use our clock
            else:
                if now.tzinfo is None:
                    now = now.replace(tzinfo=UTC)
        return parse_retry_after(self.response.headers.get("retry-after"), now=now)

    def raise_for_transport_status(self, *, config_key: str, status: int | None = None) -> None:
        """Raise for the statuses both systems share: 401, 429, 503 and every 5xx.

        ``status`` is the effective status when it differs from the HTTP one (OSS's ``kode``).
        """
        code = self.status if status is None else status
        if code == 401:
            raise self.error(
                AuthenticationFailed,
                f"the credentials were refused; check {config_key} in the config "
                "(or its OSS_BRIDGE_ environment override) and restart",
                status=code,
                config_key=config_key,
            )
        if code == 429 or (code == 503 and "retry-after" in self.response.headers):
            hint = self.retry_after()
            raise self.error(
                RateLimited,
                "the system asks us to slow down"
                + (f" for {hint:.0f}s" if hint is not None else "")
                + "; the call is retried later",
                status=code,
                retry_after=hint,
            )
        if 500 <= code <= 599:
            raise self.error(
                ServerError,
                f"the system failed to process the request; it answered {self.excerpt!r}",
                status=code,
            )


@dataclass(frozen=True)
class Call(Generic[T]):
    """One logical call: what to send, whether resending is harmless, how to read the answer."""

    endpoint: str
    method: str
    path: str
    idempotent: bool
    parse: Callable[[Answer], T]
    json: Any = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


class Seam:
    """Sends ``Call``s for one system through one injected client, under one retry policy."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        system: System,
        policy: RetryPolicy,
        runtime: RetryRuntime,
        headers: Mapping[str, str],
    ) -> None:
        if not str(http.base_url):
            raise ConfigError(
                f"the {system} http client has no base_url; build it with "
                "oss_bridge.clients.build_http_client(settings)"
            )
        self.http = http
        self.system: System = system
        self.policy = policy
        self.runtime = runtime
        self.headers = dict(headers)

    async def send(self, call: Call[T]) -> T:
        """Run ``call`` until it succeeds or the policy gives up; raise its last typed error.

        No attempt outlives the call's ``total_deadline``: each one's timeouts are cut to what
        is left of it.
        """
        started = self.runtime.clock()
        try:
            return await self._attempt(call, started)
        except ExternalSystemError as first:
            failed = first
        # The first attempt ran outside tenacity so that a success, the common case, costs
        # nothing of the retry machinery. Its failure is replayed as tenacity's attempt 1, so
        # every decision (retry, wait, give up, raise) is still the policy's, and logged.
        retrying = self.policy.retrying(
            system=self.system, endpoint=call.endpoint, runtime=self.runtime, started=started
        )
        replay: _Replay[T] = _Replay(failed, self._attempt)
        result: T = await retrying(replay, call, started)
        return result

    async def _attempt(self, call: Call[T], started: float) -> T:
        request_id = uuid.uuid4().hex
        headers = {**self.headers, **call.headers, REQUEST_ID_HEADER: request_id}
        left = self.policy.total_deadline - (self.runtime.clock() - started)
        try:
            response = await self.http.request(
                call.method,
                call.path,
                json=call.json,
                params=call.params,
                headers=headers,
                timeout=_within(self.http.timeout, left),
            )
        except _BEFORE_SEND as exc:
            raise TransportError(
                f"the request did not reach the system ({_describe(exc)}); "
                f"check that {self.http.base_url} is reachable",
                system=self.system,
                endpoint=call.endpoint,
                request_id=request_id,
            ) from exc
        except httpx.TransportError as exc:
            raise self._no_answer(call, request_id, exc) from exc
        except httpx.DecodingError as exc:
            # The answer arrived but its content encoding (gzip, ...) is broken.
            broken = MalformedResponse(
                f"the answer's body cannot be decoded ({exc}); if this persists, report it",
                system=self.system,
                endpoint=call.endpoint,
                request_id=request_id,
            )
            if call.idempotent:
                raise broken from exc
            raise self._unreadable(call, request_id, None, broken) from broken
        answer = Answer(
            system=self.system,
            endpoint=call.endpoint,
            response=response,
            request_id=response.headers.get(REQUEST_ID_HEADER, request_id),
            now=self.runtime.now,
        )
        try:
            return call.parse(answer)
        except MalformedResponse as exc:
            if call.idempotent or not response.is_success:
                raise
            # The system accepted the request, so it probably took effect; resending blindly
            # could do it twice. The caller settles it as any other unknown outcome.
            raise self._unreadable(call, answer.request_id, response.status_code, exc) from exc

    def _unreadable(
        self, call: Call[Any], request_id: str, status: int | None, exc: MalformedResponse
    ) -> OutcomeUnknown:
        return OutcomeUnknown(
            f"the system accepted the request but its answer cannot be read ({exc.args[0]}); "
            "look the record up before sending it again",
            system=self.system,
            endpoint=call.endpoint,
            status=status,
            request_id=request_id,
        )

    def _no_answer(
        self, call: Call[Any], request_id: str, exc: httpx.TransportError
    ) -> ExternalSystemError:
        if call.idempotent:
            return TransportError(
                f"no answer came ({_describe(exc)}); a read is safe to repeat",
                system=self.system,
                endpoint=call.endpoint,
                request_id=request_id,
            )
        return OutcomeUnknown(
            f"the request was sent but no answer came ({_describe(exc)}); it may or may not "
            "have taken effect, so look the record up before sending it again",
            system=self.system,
            endpoint=call.endpoint,
            request_id=request_id,
        )


class _Replay(Generic[T]):
    """Raises the failure of an attempt already made, then makes the further attempts."""

    def __init__(
        self,
        failed: ExternalSystemError,
        attempt: Callable[[Call[T], float], Awaitable[T]],
    ) -> None:
        self._failed: ExternalSystemError | None = failed
        self._attempt = attempt

    async def __call__(self, call: Call[T], started: float) -> T:
        if self._failed is not None:
            failed, self._failed = self._failed, None
            raise failed
        return await self._attempt(call, started)


def _within(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout | UseClientDefault:
    """``timeout`` with no part longer than ``seconds`` (the rest of a call's deadline); the
    client's own timeouts, unchanged, when none of them is longer."""
    parts = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    if None not in parts and seconds >= max(part for part in parts if part is not None):
        return USE_CLIENT_DEFAULT
    # The policy never starts an attempt after the deadline; the floor only absorbs rounding.
    seconds = max(seconds, 0.001)

    def cut(part: float | None) -> float:
        return seconds if part is None else min(part, seconds)

    return httpx.Timeout(
        connect=cut(timeout.connect),
        read=cut(timeout.read),
        write=cut(timeout.write),
        pool=cut(timeout.pool),
    )


def _describe(exc: httpx.TransportError) -> str:
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def summarise(exc: ValidationError) -> str:
    """The first few validation problems as ``field: message``, short enough for one log line."""
    errors = exc.errors()
    problems = [
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in errors[:3]
    ]
    more = len(errors) - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")
