from __future__ import annotations

from arq.constants import default_queue_name, health_check_key_suffix
from litestar import Request, Response, get
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

WORKER_HEALTH_KEY = default_queue_name + health_check_key_suffix


@get("/health", tags=["health"])
async def health(request: Request, db_session: AsyncSession) -> Response:
    """Database and Redis must answer (else 503); the worker's own health check is reported beside them."""
    checks: dict[str, str] = {}
    try:
        await db_session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        checks["database"] = f"error: {exc}"
    worker = None
    try:
        redis = request.app.state.redis
        await redis.ping()
        checks["redis"] = "ok"
        worker = await redis.get(WORKER_HEALTH_KEY)
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {exc}"
    healthy = all(value == "ok" for value in checks.values())
    body = {
        "status": ("ok" if worker else "degraded") if healthy else "error",
        **checks,
        "worker": worker.decode() if isinstance(worker, bytes) else (worker or "no recent health check"),
    }
    return Response(body, status_code=200 if healthy else 503)
