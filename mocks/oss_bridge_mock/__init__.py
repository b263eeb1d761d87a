"""The national systems (OSS and SP4N-LAPOR!) in a box, for development and tests.

``create_app()`` returns an ASGI app implementing DESIGN.md section 3: OSS under ``/oss``, the
complaint channel under ``/lapor``, and the control API under ``/_mock`` (INTERFACES.md). Use it
in-process with ``httpx.ASGITransport`` or serve it with ``oss-bridge mock serve``. State lives
in memory, seeded from the JSON files in ``data/``. ``FaultProfile`` makes it misbehave on
purpose, deterministically for a given seed.
"""

from oss_bridge_mock._app import ConnectionDropped, create_app
from oss_bridge_mock._endpoints import ENDPOINTS
from oss_bridge_mock._runtime import Credentials
from oss_bridge_mock.faults import (
    Burst,
    FaultProfile,
    FaultProfileError,
    FaultSettings,
    LatencyRange,
    Malformed,
    Quirks,
    RateLimit,
    TimeoutAfterCommit,
    bundled_profiles,
    load_profile,
)

__all__ = [
    "ENDPOINTS",
    "Burst",
    "ConnectionDropped",
    "Credentials",
    "FaultProfile",
    "FaultProfileError",
    "FaultSettings",
    "LatencyRange",
    "Malformed",
    "Quirks",
    "RateLimit",
    "TimeoutAfterCommit",
    "bundled_profiles",
    "create_app",
    "load_profile",
]
