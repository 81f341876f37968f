from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy.ext.asyncio import AsyncSession

from loans.outbox.service import last_beat_age, unfinished
from loans.reminders.outbox import failing_sends
from loans.settings import Settings

UNHEALTHY = ResponseSpec(
    data_container=dict[str, Any],
    description="The database or Redis does not answer, or no worker beat in time / 数据库、Redis 或后台任务异常",
    generate_examples=False,
)


@get("/health", tags=["health"], responses={503: UNHEALTHY})
async def health(request: Request, db_session: AsyncSession, settings: Settings) -> Response:
    """503 unless the database and Redis answer and a worker beat within LOANS_WORKER_DEAD_AFTER_SECONDS (60 s);
    reminders the sender refused make it `degraded` (still 200: the service works, the messages do not go out)."""
    checks: dict[str, str] = {}
    body: dict[str, object] = {}
    try:
        age = await last_beat_age(db_session)
        checks["database"] = "ok"
        if age is None:
            checks["worker"] = "no worker has ever beaten"
        elif age > settings.worker_dead_after_seconds:
            checks["worker"] = f"no worker beat for {age:.0f} s"
        else:
            checks["worker"] = "ok"
            body["worker_last_beat_seconds"] = round(age, 1)
        body["background_work"] = await unfinished(db_session)
        failing, error = await failing_sends(db_session)
        body["reminders"] = "ok" if not failing else f"{failing} not sent, last error: {error}"
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        checks["database"] = f"error: {exc}"
    try:
        await request.app.state.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {exc}"
    healthy = all(value == "ok" for value in checks.values())
    status = ("ok" if body.get("reminders") == "ok" else "degraded") if healthy else "error"
    return Response({"status": status, **checks, **body}, status_code=200 if healthy else 503)
