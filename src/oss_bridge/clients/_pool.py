"""The connection pool under the clients' httpx client: one waiting request per idle connection.

httpcore's pool (1.0.x) hands a free connection to a waiting request by reference only; the
connection stays idle until that request starts on it, a few turns of the event loop later.
Every request that arrives meanwhile is handed the same connection, finds it busy when it gets
there, and goes round the pool again (``ConnectionNotAvailable``). Requests that start in the
same turn are the rule, not the exception, for the forwarder: its slots are woken together when
claimed rows arrive, and answers that land together wake them together. In a forwarding pass
of 2,000 complaints on PostgreSQL the sends went round the pool 2,173 times more than once, and
the pool's bookkeeping (which checks every connection's socket each round) took a quarter of the
forwarder's CPU under a profiler, against an eighth for as many raw creates. The same pool may
also close an idle connection that a waiting request was already handed (httpcore issues #822
and #1110).

``SharingPool`` decides the same things in one pass, with one more rule: a connection handed to
a request that has not started on it yet is spoken for. It is neither handed to another request
nor closed as surplus. Everything else is httpcore's: the connections themselves, HTTP/1.1, the
waiting, the errors. ``PooledTransport`` is httpx's own transport on that pool.
"""

from __future__ import annotations

import httpcore
import httpx
from httpcore import AsyncConnectionInterface


class SharingPool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool for HTTP/1.1, handing each idle connection to one request."""

    def _assign_requests_to_connections(self) -> list[AsyncConnectionInterface]:
        """Drop closed connections, close expired and surplus idle ones, then give each
        waiting request a free connection, a new one, or the room of an idle one, in order of
        arrival. Returns the connections to close (the caller closes them outside the lock)."""
        spoken_for = {r.connection for r in self._requests if r.connection is not None}
        closing: list[AsyncConnectionInterface] = []
        for connection in list(self._connections):
            if connection.is_closed():
                self._connections.remove(connection)
            elif connection.has_expired():
                self._connections.remove(connection)
                closing.append(connection)
        idle = [c for c in self._connections if c.is_idle() and c not in spoken_for]
        while len(idle) > self._max_keepalive_connections:
            surplus = idle.pop(0)
            self._connections.remove(surplus)
            closing.append(surplus)
        free = [c for c in self._connections if c.is_available() and c not in spoken_for]
        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            chosen = next((c for c in free if c.can_handle_request(origin)), None)
            if chosen is not None:
                free.remove(chosen)
                if chosen in idle:
                    idle.remove(chosen)  # spoken for now: not to be closed for room
            elif len(self._connections) < self._max_connections:
                chosen = self._open(origin)
            elif idle:
                # Full, but an idle connection to another origin can make room.
                other = idle.pop(0)
                self._connections.remove(other)
                closing.append(other)
                if other in free:
                    free.remove(other)
                chosen = self._open(origin)
            else:
                continue  # stays queued until a connection is released
            request.assign_to_connection(chosen)
        return closing

    def _open(self, origin: httpcore.Origin) -> AsyncConnectionInterface:
        connection = self.create_connection(origin)
        self._connections.append(connection)
        return connection


class PooledTransport(httpx.AsyncHTTPTransport):
    """httpx's transport for direct HTTP/1.1 connections, on a ``SharingPool`` of ``limits``."""

    def __init__(self, limits: httpx.Limits) -> None:
        ssl_context = httpx.create_ssl_context()  # as httpx's own: certifi, or SSL_CERT_FILE
        super().__init__(verify=ssl_context, limits=limits)
        self._pool = SharingPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
        )


__all__ = ["PooledTransport", "SharingPool"]
