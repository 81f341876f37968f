"""What the guarantee funds have committed to beside their loans: the amounts banks approved under each fund
and have not yet disbursed (SPEC section 5, guaranteed outstanding). `FundService.figures` asks for them as
its `Commitments`."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applications.models import Application
from loans.applications.workflow import Status


async def approved_not_disbursed(session: AsyncSession, fund_ids: Collection[UUID]) -> dict[UUID, int]:
    query = (
        select(Application.guarantee_fund_id, func.sum(Application.approved_amount))
        .where(Application.guarantee_fund_id.in_(fund_ids), Application.status == Status.BANK_APPROVED)
        .group_by(Application.guarantee_fund_id)
    )
    return {fund_id: int(amount or 0) for fund_id, amount in await session.execute(query)}
