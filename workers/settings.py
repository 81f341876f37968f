"""arq worker: `arq workers.settings.WorkerSettings` (or `loans worker`). Tasks call the same services as the API."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from loans.logging import configure_logging
from loans.settings import get_settings
from workers.tasks import ping, process_repayment_import


async def startup(ctx: dict[str, Any]) -> None:
    configure_logging()
    settings = ctx.setdefault("settings", get_settings())
    ctx["engine"] = create_async_engine(settings.async_database_url, pool_size=settings.db_pool_size)
    ctx["sessionmaker"] = async_sessionmaker(ctx["engine"], expire_on_commit=False)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(get_settings().redis_url or "redis://localhost:6379")


class WorkerSettings:
    functions = [ping, process_repayment_import]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    health_check_interval = 30
    max_tries = 5
    job_timeout = 3600
