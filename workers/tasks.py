from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text

from loans.core.clock import today
from loans.imports.service import process_import


async def ping(ctx: dict[str, Any]) -> str:
    """A round trip through the worker and the database: proves the worker is alive and wired."""
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))
    return "pong"


async def process_repayment_import(ctx: dict[str, Any], import_id: str) -> dict[str, int | str]:
    async with ctx["sessionmaker"]() as session:
        batch = await process_import(session, UUID(import_id), today(ctx["settings"]))
        return {"status": batch.status, "posted": batch.posted, "duplicates": batch.duplicates,
                "rejected": batch.rejected}
