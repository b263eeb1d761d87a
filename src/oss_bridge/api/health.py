"""``GET /healthz`` (the process answers) and ``GET /readyz`` (it can do its work).

Ready means the database answers and its schema is the one this code needs. When it is not,
the answer is 503 with the check that failed and the reason, which says what to do (start the
database, fix ``database.url``, run ``oss-bridge db upgrade``).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from oss_bridge.errors import SchemaOutdated, StoreError
from oss_bridge.store import Store


def health_router(store: Store) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive and serving HTTP."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        """Database reachable and schema current: 200; otherwise 503 with reason and fix."""
        check = "database"
        try:
            await store.ping()
            check = "schema"
            state = await store.check_schema()
        except SchemaOutdated as exc:
            return _not_ready("schema", str(exc))
        except StoreError as exc:
            return _not_ready(check, str(exc))
        return JSONResponse(
            {"status": "ready", "database": store.database, "schema": state.current_label}
        )

    return router


def _not_ready(check: str, reason: str) -> JSONResponse:
    return JSONResponse(
        {"status": "not_ready", "check": check, "reason": reason},
        status_code=503,
        headers={"Retry-After": "10"},
    )
