"""arq worker: `loans worker` (or `arq workers.settings.WorkerSettings`)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from arq import cron, func
from arq.connections import RedisSettings
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

import loans.models  # noqa: F401 - every mapper registered before the first query
from loans.logging import configure_logging
from loans.outbox.worker import start_background, stop_background
from loans.settings import get_settings
from workers.tasks import (
    build_report,
    close_of_business,
    cluster_counties,
    daily_close_of_business,
    ledger_check,
    ping,
    process_repayment_import,
    send_reminders,
    weekly_county_clustering,
    weekly_ledger_check,
)

MAX_TRIES = 5
# Outbox tasks keep their outcome in their row; no arq result, so a handover's job id is free again at once.
OUTBOX_TASKS = [process_repayment_import, close_of_business, build_report, ledger_check, cluster_counties]


async def startup(ctx: dict[str, Any]) -> None:
    """The database for the tasks (and, outside their pool, for the runs' locks); an arq worker (its ctx holds the
    Redis pool) also beats and dispatches."""
    configure_logging()
    settings = ctx.setdefault("settings", get_settings())
    ctx["max_tries"] = MAX_TRIES
    ctx.setdefault("worker_id", uuid4())
    ctx["engine"] = create_async_engine(settings.async_database_url, pool_size=settings.db_pool_size)
    ctx["sessionmaker"] = async_sessionmaker(ctx["engine"], expire_on_commit=False)
    ctx["run_locks"] = create_async_engine(settings.async_database_url, poolclass=NullPool)
    if "redis" in ctx:
        await start_background(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    if "background" in ctx:
        await stop_background(ctx)
    await ctx["engine"].dispose()
    await ctx["run_locks"].dispose()


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url or "redis://localhost:6379")


class WorkerSettings:
    functions = [ping, send_reminders, *(func(task, keep_result=0) for task in OUTBOX_TASKS)]
    cron_jobs = [
        cron(daily_close_of_business, hour=0, minute=30, unique=True, run_at_startup=False),
        cron(send_reminders, minute=set(range(0, 60, 5)), unique=True),
        cron(weekly_ledger_check, weekday="sun", hour=3, minute=0, unique=True, run_at_startup=False),
        cron(weekly_county_clustering, weekday="sun", hour=3, minute=30, unique=True, run_at_startup=False),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    timezone = ZoneInfo(get_settings().timezone)
    health_check_interval = 30
    max_tries = MAX_TRIES
    job_timeout = 3600
