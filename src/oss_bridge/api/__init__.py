"""The HTTP surfaces: intake JSON API, Open311 GeoReport v2, health checks (see ``app``)."""

from oss_bridge.api.app import create_app

__all__ = ["create_app"]
