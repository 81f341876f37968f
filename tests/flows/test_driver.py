"""Statements on the asyncpg connection under a session's transaction (loans.core.driver)."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.core.driver import DriverStatement, driver_connection
from loans.regions.models import Region

REGION_NAME = DriverStatement.of(select(Region.name).where(Region.code == bindparam("code")))


async def test_no_driver_statement_before_the_session_has_begun(engine: AsyncEngine) -> None:
    """A driver statement before the session's first would run outside its transaction and commit on its own."""
    async with AsyncSession(engine) as session:
        with pytest.raises(RuntimeError, match="no transaction has begun"):
            await driver_connection(session)


async def test_driver_statements_see_pending_changes_and_roll_back_with_it(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        await session.execute(text("SELECT 1"))
        session.add(Region(code="999999000000", name="试验县", level="county"))
        connection = await driver_connection(session)
        names = await REGION_NAME.fetch(connection, {"code": "999999000000"})
        assert [r["name"] for r in names] == ["试验县"]
        await connection.execute("UPDATE region SET name = '改名县' WHERE code = '999999000000'")
        await session.rollback()
    async with AsyncSession(engine) as session:
        assert await session.get(Region, "999999000000") is None


def test_a_parameter_named_twice_is_one_placeholder() -> None:
    statement = DriverStatement.of(text("SELECT :a, :b, CAST(:a AS int) + :b"))
    assert statement.sql == "SELECT $1, $2, CAST($1 AS int) + $2"
    assert statement.arguments({"b": 2, "a": 1, "unused": 3}) == [1, 2]
