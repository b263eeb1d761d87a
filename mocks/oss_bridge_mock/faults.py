"""Fault profiles: how the mock misbehaves, decided deterministically from a seed.

A profile holds settings that apply to every endpoint, and per-endpoint settings that override
them field by field (an endpoint that sets only ``error_rate`` keeps the global latency). Endpoint
names are those of ``ENDPOINTS`` (``"POST /lapor/complaints/complaint"``, ...).

Determinism: each endpoint draws from its own ``random.Random`` seeded with the profile's seed
and the endpoint's name, and every request draws the same number of values whatever happens to
it. So the same seed and the same sequence of requests to an endpoint give the same faults, no
matter how requests to other endpoints interleave with them, and changing one rate does not
shift the other decisions. Burst rate limits count requests in order instead of drawing.

Fault kinds, in the order they apply to one request:

- ``latency_ms``: wait (fixed, or uniform in ``{min, max}``) before anything else.
- ``rate_limit``: 429 with ``Retry-After`` (seconds or HTTP date); the request is not processed.
- ``error_rate`` / ``error_statuses``: one of 500, 502, 503, 504; the request is not processed.
- ``timeout_after_commit``: the request is processed and stored, then the answer is held back
  (``hang``, past any sensible read timeout) or the connection is dropped (``drop``).
- ``malformed``: a successful answer arrives corrupted: ``truncated`` JSON, ``wrong_types`` or
  ``missing_fields`` in its payload. The request was processed and stored.
- ``quirks`` (OSS only, both legal): ``kode`` as a numeric string, and another spelling of the
  ``respon...`` key.
"""

from __future__ import annotations

import json
import random
import tomllib
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oss_bridge_mock._endpoints import ENDPOINTS

MalformedKind = Literal["truncated", "wrong_types", "missing_fields"]
ErrorStatus = Literal[500, 502, 503, 504]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]

MALFORMED_KINDS: tuple[MalformedKind, ...] = ("truncated", "wrong_types", "missing_fields")
# Keys of an OSS answer that say how the call went rather than what was asked for.
_STATUS_KEYS = frozenset({"kode", "keterangan"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatencyRange(_Model):
    """A latency drawn uniformly between ``min`` and ``max`` milliseconds."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> LatencyRange:
        if self.min > self.max:
            raise ValueError(f"latency min {self.min!r} is above max {self.max!r}; swap them")
        return self


class Burst(_Model):
    """A repeating pattern: let ``allow`` requests through, then refuse ``refuse`` of them."""

    allow: int = Field(ge=0)
    refuse: int = Field(ge=1)


class RateLimit(_Model):
    """Answer 429: at random with probability ``rate``, or by a ``burst`` pattern, or both."""

    rate: Rate = 0.0
    burst: Burst | None = None
    retry_after_seconds: int = Field(default=1, ge=0)
    form: Literal["seconds", "http-date"] = "seconds"

    @property
    def inert(self) -> bool:
        return self.rate == 0 and self.burst is None


class TimeoutAfterCommit(_Model):
    """Process and store the request, then hang for ``hang_seconds`` or drop the connection."""

    rate: Rate
    mode: Literal["hang", "drop"] = "hang"
    hang_seconds: float = Field(default=60.0, gt=0)


class Malformed(_Model):
    rate: Rate
    kinds: tuple[MalformedKind, ...] = Field(default=MALFORMED_KINDS, min_length=1)


class Quirks(_Model):
    """Legal oddities of the real OSS API, at these rates."""

    kode_as_string: Rate = 0.0
    alt_spelling: Rate = 0.0


class FaultSettings(_Model):
    """Faults for one endpoint (or, in a profile, for all of them)."""

    error_rate: Rate = 0.0
    error_statuses: tuple[ErrorStatus, ...] = Field(default=(500, 502, 503, 504), min_length=1)
    latency_ms: Annotated[float, Field(ge=0)] | LatencyRange = 0.0
    rate_limit: RateLimit | None = None
    timeout_after_commit: TimeoutAfterCommit | None = None
    malformed: Malformed | None = None
    quirks: Quirks | None = None

    @property
    def inert(self) -> bool:
        """True when these settings can never change an answer."""
        return (
            self.error_rate == 0
            and self.latency_ms in (0, 0.0)
            and (self.rate_limit is None or self.rate_limit.inert)
            and (self.timeout_after_commit is None or self.timeout_after_commit.rate == 0)
            and (self.malformed is None or self.malformed.rate == 0)
            and (
                self.quirks is None
                or (self.quirks.kode_as_string == 0 and self.quirks.alt_spelling == 0)
            )
        )


class FaultProfile(FaultSettings):
    """Global fault settings, per-endpoint overrides, and the seed of every random decision.

    ``seed`` None means the seed the mock was started with. ``FaultProfile()`` (``{}`` on the
    wire) is the faithful mock.
    """

    seed: int | None = None
    endpoints: dict[str, FaultSettings] = Field(default_factory=dict)

    @field_validator("endpoints")
    @classmethod
    def _known_endpoints(cls, value: dict[str, FaultSettings]) -> dict[str, FaultSettings]:
        unknown = sorted(set(value) - set(ENDPOINTS))
        if unknown:
            raise ValueError(
                f"unknown endpoint {unknown[0]!r}; use one of: " + ", ".join(map(repr, ENDPOINTS))
            )
        return value

    def settings_for(self, endpoint: str) -> FaultSettings:
        """The effective settings of ``endpoint``: its own fields over the global ones."""
        merged = {name: getattr(self, name) for name in FaultSettings.model_fields}
        override = self.endpoints.get(endpoint)
        if override is not None:
            merged.update({name: getattr(override, name) for name in override.model_fields_set})
        return FaultSettings(**merged)


class FaultProfileError(ValueError):
    """A fault profile file cannot be read or is not a valid profile."""


def bundled_profiles() -> dict[str, Traversable]:
    """The example profiles shipped with the mock, by name (``flaky``, ``outage``, ...)."""
    folder = resources.files("oss_bridge_mock") / "profiles"
    return {
        item.name.rsplit(".", 1)[0]: item
        for item in folder.iterdir()
        if item.name.endswith((".json", ".toml"))
    }


def load_profile(path: Path) -> FaultProfile:
    """Read a profile from a JSON or TOML file (chosen by suffix, else whichever parses).

    A bare name that is not a file, such as ``flaky``, names a bundled profile.
    """
    bundled = bundled_profiles()
    source: Path | Traversable = path
    if not path.exists() and path.parent == Path(".") and path.stem in bundled:
        source = bundled[path.stem]
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise FaultProfileError(
            f"fault profile {str(path)!r} cannot be read ({exc.strerror}); check the path, "
            f"or name a bundled profile: {', '.join(sorted(bundled))}"
        ) from None
    data = _parse_profile_text(text, shown=str(path), suffix=Path(source.name).suffix.lower())
    try:
        return FaultProfile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise FaultProfileError(f"fault profile {str(path)!r} is invalid: {problems}") from None


def _parse_profile_text(text: str, *, shown: str, suffix: str) -> Any:
    if suffix == ".json":
        parsers = [_json]
    elif suffix == ".toml":
        parsers = [_toml]
    else:
        parsers = [_json, _toml]
    reasons = []
    for parse in parsers:
        try:
            return parse(text)
        except ValueError as exc:
            reasons.append(str(exc))
    raise FaultProfileError(
        f"fault profile {shown!r} is neither valid JSON nor TOML: " + "; ".join(reasons)
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSON: {exc}") from None


def _toml(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML: {exc}") from None


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one request."""

    latency_seconds: float = 0.0
    rate_limited: RateLimit | None = None
    error_status: int | None = None
    after_commit: TimeoutAfterCommit | None = None
    malformed: MalformedKind | None = None
    detail: float = 0.5
    kode_as_string: bool = False
    alt_spelling: float | None = None


# Every request draws this many values from its endpoint's stream, whatever is decided.
_DRAWS = 11


class FaultPlan:
    """Turns a profile into one decision per request; holds the random streams and counters."""

    def __init__(self, profile: FaultProfile, *, seed: int) -> None:
        self.profile = profile
        self.seed = profile.seed if profile.seed is not None else seed
        self._settings = {name: profile.settings_for(name) for name in ENDPOINTS}
        self._active = frozenset(name for name, s in self._settings.items() if not s.inert)
        self._streams: dict[str, random.Random] = {}
        self._burst_seen: Counter[str] = Counter()

    def decide(self, endpoint: str) -> Decision | None:
        """The decision for the next request to ``endpoint``; None when nothing can happen."""
        if endpoint not in self._active:
            return None
        settings = self._settings[endpoint]
        stream = self._streams.get(endpoint)
        if stream is None:
            stream = self._streams[endpoint] = random.Random(f"{self.seed}/{endpoint}")
        u = [stream.random() for _ in range(_DRAWS)]

        latency = _latency_seconds(settings.latency_ms, u[3])
        limit = settings.rate_limit
        if limit is not None and self._refused(endpoint, limit, u[0]):
            return Decision(latency_seconds=latency, rate_limited=limit)
        if u[1] < settings.error_rate:
            statuses = settings.error_statuses
            return Decision(
                latency_seconds=latency, error_status=statuses[int(u[2] * len(statuses))]
            )
        tac = settings.timeout_after_commit
        malformed = settings.malformed
        kind: MalformedKind | None = None
        if malformed is not None and u[5] < malformed.rate:
            kind = malformed.kinds[int(u[6] * len(malformed.kinds))]
        quirks = settings.quirks or Quirks()
        return Decision(
            latency_seconds=latency,
            after_commit=tac if tac is not None and u[4] < tac.rate else None,
            malformed=kind,
            detail=u[7],
            kode_as_string=u[8] < quirks.kode_as_string,
            alt_spelling=u[10] if u[9] < quirks.alt_spelling else None,
        )

    def _refused(self, endpoint: str, limit: RateLimit, u: float) -> bool:
        refused = u < limit.rate
        if limit.burst is not None:
            # A global burst counts every request, as one gateway in front of all endpoints would.
            own = self.profile.endpoints.get(endpoint)
            scope = endpoint if own is not None and "rate_limit" in own.model_fields_set else "*"
            seen = self._burst_seen[scope]
            self._burst_seen[scope] = seen + 1
            cycle = limit.burst.allow + limit.burst.refuse
            refused = refused or seen % cycle >= limit.burst.allow
        return refused


def _latency_seconds(latency: float | LatencyRange, u: float) -> float:
    if isinstance(latency, LatencyRange):
        return (latency.min + u * (latency.max - latency.min)) / 1000.0
    return latency / 1000.0


def corrupt(body: bytes, kind: MalformedKind, detail: float) -> bytes:
    """A malformed version of a JSON answer.

    ``truncated`` cuts the text between 20 % and 80 % of its length (by ``detail``);
    ``wrong_types`` and ``missing_fields`` act on the payload (inside ``respon...`` or
    ``results``): its data-bearing fields get a value of another JSON type, or are removed, so
    the answer parses but does not carry what was asked for. OSS ``kode`` and ``keterangan``
    stay. An answer without data-bearing fields is truncated instead.
    """
    if kind != "truncated":
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        payload = _payload(document)
        keys = [k for k in payload if k not in _STATUS_KEYS] if payload is not None else []
        if payload is not None and keys:
            for key in keys:
                if kind == "wrong_types":
                    payload[key] = _wrong_type(payload[key])
                else:
                    del payload[key]
            return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    if len(body) < 2:
        return b""
    cut = min(len(body) - 1, max(1, int(len(body) * (0.2 + 0.6 * detail))))
    return body[:cut]


def _payload(document: Any) -> dict[str, Any] | None:
    if not isinstance(document, dict):
        return None
    if len(document) == 1:
        (key, value), *_ = document.items()
        if key.lower().startswith("respon") and isinstance(value, dict):
            return value
    results = document.get("results")
    if isinstance(results, dict):
        return results
    return document


def _wrong_type(value: Any) -> Any:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return {"items": value}
    if value is None:
        return {}
    return [value]


def alternate_spellings(key: str) -> list[str]:
    """Other spellings of a ``respon{method}`` key that the real OSS has been seen to use."""
    method = key.removeprefix("respon")
    candidates = [f"respon{method[:1].upper()}{method[1:]}", key.lower(), f"respon_{method}"]
    return [c for c in dict.fromkeys(candidates) if c != key]


def apply_quirks(body: bytes, *, kode_as_string: bool, alt_spelling: float | None) -> bytes:
    """An OSS answer with ``kode`` as a numeric string and/or its wrapper key spelled otherwise."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict) or len(document) != 1:
        return body
    ((key, payload),) = document.items()
    if kode_as_string and isinstance(payload, dict) and isinstance(payload.get("kode"), int):
        payload["kode"] = str(payload["kode"])
    if alt_spelling is not None:
        spellings = alternate_spellings(key)
        if spellings:
            key = spellings[int(alt_spelling * len(spellings))]
    return json.dumps({key: payload}, ensure_ascii=False, separators=(",", ":")).encode()
