from __future__ import annotations

from typing import Any

from sqlalchemy import text


async def ping(ctx: dict[str, Any]) -> str:
    """A round trip through the worker and the database: proves the worker is alive and wired."""
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))
    return "pong"
