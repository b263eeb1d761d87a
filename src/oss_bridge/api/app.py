"""The HTTP application of the daemon: intake JSON API, Open311, health checks, and plug-ins.

``create_app`` builds it from services that already exist, so the daemon, the demo and the tests
wire the same objects. Routes other people own (``/metrics``, ``/api/v1/admin``, ``/ui``) come in
as ``extra_routers``, and cross-cutting wrappers (metrics, request logs) as ``middleware``. The
request-body limit always sits innermost of the middleware, closest to the routes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.middleware import Middleware

from oss_bridge import __version__
from oss_bridge.api._body import BodyLimit
from oss_bridge.api.complaints import complaints_router
from oss_bridge.api.errors import install_error_handlers
from oss_bridge.api.health import health_router
from oss_bridge.api.open311 import open311_router
from oss_bridge.config import Settings
from oss_bridge.services.intake import ComplaintIntake
from oss_bridge.store import Store

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_app(
    *,
    store: Store,
    settings: Settings,
    intake: ComplaintIntake,
    extra_routers: Iterable[APIRouter] = (),
    middleware: Iterable[Middleware] = (),
    lifespan: Lifespan | None = None,
) -> FastAPI:
    """The application serving ``intake`` and ``store`` under ``settings.api``.

    ``lifespan`` is handed to FastAPI unchanged (start and stop the scheduler there).
    """
    app = FastAPI(
        title="oss-bridge",
        version=__version__,
        summary="Complaint intake (JSON and Open311 GeoReport v2) of the regional office",
        lifespan=lifespan,
        middleware=[
            *middleware,
            Middleware(BodyLimit, max_bytes=settings.api.max_body_bytes),
        ],
    )
    install_error_handlers(app)
    app.include_router(health_router(store))
    app.include_router(complaints_router(intake))
    app.include_router(open311_router(intake, settings))
    for router in extra_routers:
        app.include_router(router)
    return app
