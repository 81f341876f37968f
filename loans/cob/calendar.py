from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.cob.models import BusinessDay


async def current_business_date(session: AsyncSession, today: date) -> date:
    """The date the books are open for: the day after the last closed business date (today if none is closed).

    Postings recompute days past due as of this date, so a late repayment clears the overdue state at once,
    consistently with what close of business has already accrued.
    """
    last_closed = await session.scalar(
        select(func.max(BusinessDay.business_date)).where(BusinessDay.status == "done")
    )
    return min(last_closed + timedelta(days=1), today) if last_closed is not None else today
