"""The one exception tree of oss-bridge.

Every error the bridge raises on purpose derives from ``BridgeError``; surfaces catch it, print
``str(err)`` (which always says what to do next) and map it to an exit code or HTTP status.
Lower-level exceptions (httpx, SQLAlchemy, pydantic) are translated at the seam that meets them,
with ``raise ... from exc`` so the cause stays visible in tracebacks.

    BridgeError
    ├── ConfigError                  bad or missing configuration                  (exit 2)
    ├── ShuttingDown                 the daemon is stopping and takes no new work; retry later
    ├── InputError                   bad input from a person or a caller           (exit 2 / 4xx)
    │   ├── FieldErrors              field by field (``errors``: {"reporter.email": [messages]})
    │   └── PageParseError           a service-standard page lacks sections or cannot be read
    ├── StoreError                   the database
    │   ├── DatabaseUnavailable      cannot connect; retry later
    │   ├── SchemaOutdated           schema missing or older than the code; run `oss-bridge db upgrade`
    │   ├── NotFound                 no row with that id
    │   ├── ConcurrentChange         the row changed since the caller read it; reload and retry
    │   └── InstanceLocked           another daemon already owns this SQLite file
    └── ExternalSystemError          a national system (``system`` = "oss" | "lapor")
        ├── TransportError           no exchange, and repeating is harmless: the request never reached
        │                            the system (refused, DNS, reset before send), or a read got no answer
        ├── OutcomeUnknown           a call with an effect left and no readable answer came (read timeout,
        │                            drop after send, garbled 2xx): look the record up before resending
        ├── RateLimited              429, or 503 with Retry-After; ``retry_after`` in seconds when given
        ├── ServerError              5xx, or OSS ``kode`` 500/504: worth retrying
        ├── AuthenticationFailed     401: the credentials in config are wrong; ``config_key`` names them
        ├── RequestRejected          any other 4xx: retrying cannot help
        │   ├── ValidationRejected   422 with field errors (``errors``)
        │   └── VersionConflict      OSS 409: OSS holds another ``versi``; ``current`` is its entry
        └── MalformedResponse        an answer that does not validate; ``excerpt`` holds the raw start

Whether an error is worth retrying is a property of the class (``retryable``), so retry policies
are declared over the tree rather than scattered over status codes.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

System = Literal["oss", "lapor"]


class BridgeError(Exception):
    """Root of every error oss-bridge raises on purpose."""

    retryable: ClassVar[bool] = False


class ConfigError(BridgeError):
    """The configuration is invalid; the message names the key and what is wrong."""


class ShuttingDown(BridgeError):
    """The daemon is stopping: it finishes what it started and takes no new work."""

    retryable = True


class InputError(BridgeError):
    """Input from a person or a caller is invalid; nothing was stored."""


class FieldErrors(InputError):
    """Input failed field by field; nothing was stored.

    ``errors`` maps the path of each bad field (``"description"``, ``"reporter.email"``) to
    what is wrong with it, each message saying what to write instead.
    """

    def __init__(self, message: str, *, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.errors = {field: list(messages) for field, messages in errors.items()}


class PageParseError(InputError):
    """A service-standard page cannot be turned into a service standard."""

    def __init__(self, message: str, *, missing_sections: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing_sections = missing_sections


class StoreError(BridgeError):
    """The database failed or is not in the state the code needs."""


class DatabaseUnavailable(StoreError):
    retryable = True


class SchemaOutdated(StoreError):
    """The schema is missing or older than this code expects."""


class NotFound(StoreError):
    """No row with the given id."""


class ConcurrentChange(StoreError):
    """The row changed after the caller read it; nothing was written. Reload and decide again."""


class InstanceLocked(StoreError):
    """Another daemon already runs on this SQLite database."""


class ExternalSystemError(BridgeError):
    """A national system failed, refused, or answered something we cannot read."""

    def __init__(
        self,
        message: str,
        *,
        system: System,
        endpoint: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.system: System = system
        self.endpoint = endpoint
        self.status = status
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"{self.system} {self.endpoint}"
        if self.status is not None:
            where += f" (HTTP {self.status})"
        if self.request_id:
            where += f" [request {self.request_id}]"
        return f"{where}: {self.args[0]}"


class TransportError(ExternalSystemError):
    """No usable exchange, and sending again is harmless.

    Either the request never left (connection refused, connect or pool timeout), or it was a
    read, which has no effect to duplicate, and its answer never came. A call with an effect
    whose answer never came is an ``OutcomeUnknown`` instead.
    """

    retryable = True


class OutcomeUnknown(ExternalSystemError):
    """The request was sent but no answer arrived; look the record up before sending again."""


class RateLimited(ExternalSystemError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ExternalSystemError):
    retryable = True


class AuthenticationFailed(ExternalSystemError):
    def __init__(self, message: str, *, config_key: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.config_key = config_key


class RequestRejected(ExternalSystemError):
    """A 4xx other than 401/429: the request itself is wrong, retrying cannot help."""


class ValidationRejected(RequestRejected):
    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.errors = errors or {}


class VersionConflict(RequestRejected):
    """OSS holds another version of the entry than the base version we sent; nothing was written."""

    def __init__(self, message: str, *, current: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.current = current


class MalformedResponse(ExternalSystemError):
    """The answer did not validate; ``excerpt`` holds the start of the raw body."""

    retryable = True

    def __init__(self, message: str, *, excerpt: str = "", **kw: Any) -> None:
        super().__init__(message, **kw)
        self.excerpt = excerpt
