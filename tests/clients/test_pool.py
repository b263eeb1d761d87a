"""The clients' connection pool: each idle connection goes to one waiting request at a time.

The table drives the pool's assignment pass over stand-in connections; the loopback tests drive
the real pool through ``build_http_client`` against a small HTTP/1.1 server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpcore
import pytest
from httpcore._async.connection_pool import AsyncPoolRequest

from oss_bridge.clients import build_http_client
from oss_bridge.clients._pool import SharingPool
from oss_bridge.config import LaporSettings

HERE = httpcore.Origin(b"http", b"lapor.test", 80)
ELSEWHERE = httpcore.Origin(b"http", b"oss.test", 80)


class Connection(httpcore.AsyncConnectionInterface):
    """A stand-in connection in one of the states the pool reads."""

    def __init__(self, name: str, state: str = "idle", origin: httpcore.Origin = HERE) -> None:
        self.name = name
        self.state = state
        self.origin = origin

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin

    def is_available(self) -> bool:
        return self.state == "idle"

    def is_idle(self) -> bool:
        return self.state in ("idle", "expired")

    def is_closed(self) -> bool:
        return self.state == "closed"

    def has_expired(self) -> bool:
        return self.state == "expired"

    def __repr__(self) -> str:
        return self.name


class Pool(SharingPool):
    """The pool under test, opening stand-in connections named new1, new2, ..."""

    def __init__(self, *, max_connections: int, max_keepalive: int | None = None) -> None:
        super().__init__(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive or max_connections,
        )
        self.opened = 0

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        self.opened += 1
        return Connection(f"new{self.opened}", state="connecting", origin=origin)


def waiting(origin: httpcore.Origin = HERE, *, on: Connection | None = None) -> AsyncPoolRequest:
    """A request in the pool: queued, or handed ``on`` and not yet started on it."""
    url = httpcore.URL(scheme=origin.scheme, host=origin.host, port=origin.port, target=b"/")
    request = AsyncPoolRequest(httpcore.Request(b"POST", url))
    if on is not None:
        request.assign_to_connection(on)
    return request


@dataclass(frozen=True)
class Case:
    max_connections: int
    connections: list[Connection]
    requests: Callable[[dict[str, Connection]], list[AsyncPoolRequest]]
    handed: list[str | None]
    closed: list[str]
    max_keepalive: int | None = None


CASES = {
    "two arrivals and one idle connection: the first takes it, the second waits": Case(
        max_connections=2,
        connections=[Connection("a"), Connection("b", "active")],
        requests=lambda c: [waiting(), waiting()],
        handed=["a", None],
        closed=[],
    ),
    "a connection handed to a request that has not started is not handed again": Case(
        max_connections=2,
        connections=[Connection("a")],
        requests=lambda c: [waiting(on=c["a"]), waiting()],
        handed=["a", "new1"],
        closed=[],
    ),
    "with no room, an arrival waits rather than share a connection spoken for": Case(
        max_connections=1,
        connections=[Connection("a")],
        requests=lambda c: [waiting(on=c["a"]), waiting()],
        handed=["a", None],
        closed=[],
    ),
    "a connection spoken for is not closed as a surplus idle one": Case(
        max_connections=3,
        max_keepalive=1,
        connections=[Connection("a"), Connection("b")],
        requests=lambda c: [waiting(on=c["a"])],
        handed=["a"],
        closed=[],
    ),
    "idle connections beyond the keep-alive limit are closed, oldest first": Case(
        max_connections=4,
        max_keepalive=1,
        connections=[Connection("a"), Connection("b"), Connection("c")],
        requests=lambda c: [],
        handed=[],
        closed=["a", "b"],
    ),
    "an expired connection is closed and the arrival gets a new one": Case(
        max_connections=1,
        connections=[Connection("a", "expired")],
        requests=lambda c: [waiting()],
        handed=["new1"],
        closed=["a"],
    ),
    "a connection the server closed is dropped without closing it again": Case(
        max_connections=1,
        connections=[Connection("a", "closed")],
        requests=lambda c: [waiting()],
        handed=["new1"],
        closed=[],
    ),
    "when full, an idle connection to another origin makes room": Case(
        max_connections=2,
        connections=[Connection("a", "active"), Connection("b", origin=ELSEWHERE)],
        requests=lambda c: [waiting()],
        handed=["new1"],
        closed=["b"],
    ),
    "a connection just handed out is not closed to make room for the next arrival": Case(
        max_connections=1,
        connections=[Connection("a", origin=ELSEWHERE)],
        requests=lambda c: [waiting(ELSEWHERE), waiting()],
        handed=["a", None],
        closed=[],
    ),
    "arrivals take free connections, then new ones, in order of arrival": Case(
        max_connections=3,
        connections=[Connection("a"), Connection("b", "active")],
        requests=lambda c: [waiting(), waiting(), waiting()],
        handed=["a", "new1", None],
        closed=[],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_the_pool_hands_connections_out(case: Case) -> None:
    pool = Pool(max_connections=case.max_connections, max_keepalive=case.max_keepalive)
    pool._connections = list(case.connections)
    pool._requests = case.requests({c.name: c for c in case.connections})

    closing = pool._assign_requests_to_connections()

    assert [repr(r.connection) if r.connection else None for r in pool._requests] == case.handed
    assert [repr(c) for c in closing] == case.closed
    assert not set(closing) & set(pool._connections)


# --- the real pool over loopback -----------------------------------------------------------------


@dataclass
class Server:
    """A small HTTP/1.1 server that keeps connections alive and answers every request 200."""

    url: str
    connections: int = 0
    requests: int = 0
    drop_after_answer: bool = False  # as a gateway whose keep-alive ran out, without saying so
    dropped: asyncio.Condition = field(default_factory=asyncio.Condition)
    closed: int = 0

    async def all_dropped(self) -> None:
        """Until every connection opened so far has been closed on the server's side."""
        async with self.dropped:
            await self.dropped.wait_for(lambda: self.closed == self.connections)


async def _serve(
    server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    server.connections += 1
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = 0
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            server.requests += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if server.drop_after_answer:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
        await writer.wait_closed()
        async with server.dropped:
            server.closed += 1
            server.dropped.notify_all()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(url="")
    listener = await asyncio.start_server(
        lambda r, w: _serve(state, r, w), host="127.0.0.1", port=0
    )
    port = listener.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    async with listener:
        yield state


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the pool's assignment passes: one when a request arrives, one when it ends, and
    one more each time a request finds its connection taken and goes round again."""
    count = [0]
    assign = SharingPool._assign_requests_to_connections

    def counted(self: SharingPool) -> Any:
        count[0] += 1
        return assign(self)

    monkeypatch.setattr(SharingPool, "_assign_requests_to_connections", counted)
    return count


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.usefixtures("no_proxy")
async def test_requests_started_together_never_go_round_the_pool_twice(
    server: Server, passes: list[int]
) -> None:
    settings = LaporSettings(base_url=server.url, max_connections=8)
    rounds, together = 25, 8

    async with build_http_client(settings) as http:
        for _ in range(rounds):
            answers = await asyncio.gather(*(http.post("/x", json={}) for _ in range(together)))
            assert [a.status_code for a in answers] == [200] * together

    assert server.requests == rounds * together
    assert server.connections == together
    assert passes[0] == 2 * rounds * together


@pytest.mark.usefixtures("no_proxy")
async def test_more_requests_than_connections_wait_their_turn(server: Server) -> None:
    settings = LaporSettings(base_url=server.url, max_connections=3)

    async with build_http_client(settings) as http:
        answers = await asyncio.gather(*(http.get("/x") for _ in range(40)))

    assert [a.text for a in answers] == ["ok"] * 40
    assert server.connections == 3


@pytest.mark.usefixtures("no_proxy")
async def test_connections_the_server_dropped_while_idle_are_replaced_not_reused(
    server: Server,
) -> None:
    server.drop_after_answer = True
    settings = LaporSettings(base_url=server.url, max_connections=2)

    async with build_http_client(settings) as http:
        for _ in range(5):
            await server.all_dropped()
            answers = await asyncio.gather(*(http.get("/x") for _ in range(2)))
            assert [a.text for a in answers] == ["ok", "ok"]

    assert server.requests == 10
    assert server.connections == 10


async def test_a_proxy_named_in_the_environment_still_carries_the_requests(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    settings = LaporSettings(base_url="http://lapor.invalid/api")

    async with build_http_client(settings) as http:
        answer = await http.get("/complaints")

    assert answer.text == "ok"
    assert server.requests == 1
