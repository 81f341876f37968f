from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from litestar import Controller, get
from litestar.params import Parameter
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.disclosure import mask_phone, sees_full_id
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.core.schemas import AmountText, Offset, OutSchema, Page
from loans.money import fen_to_str
from loans.reminders.models import Reminder
from loans.reminders.outbox import EVENTS_ZH


class ReminderOut(OutSchema):
    id: UUID
    loan_id: UUID
    event: str
    event_zh: str
    ref_date: date
    business_date: date
    township_code: str
    village_code: str
    phone_masked: str | None
    phone: str | None = Field(default=None, description="Only where the borrower's full ID would be shown")
    amount: AmountText | None
    message: str
    sent_at: datetime | None
    channel: str | None


class ReminderController(Controller):
    path = "/api/v1/reminders"
    tags = ["reminders"]

    @get("/")
    async def list_reminders(
        self,
        db_session: AsyncSession,
        actor: Actor,
        business_date: date | None = None,
        event: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
        offset: Offset = 0,
    ) -> Page[ReminderOut]:
        actor.require(
            Role.TOWNSHIP_STAFF,
            Role.VILLAGE_OFFICER,
            Role.COUNTY_OFFICER,
            Role.BANK_LIAISON,
            Role.AUDITOR,
            Role.ADMIN,
        )
        conditions = [actor.scope_filter(Reminder)]
        if business_date:
            conditions.append(Reminder.business_date == business_date)
        if event:
            conditions.append(Reminder.event == event)
        total = await db_session.scalar(select(func.count()).select_from(Reminder).where(*conditions))
        rows = await db_session.scalars(
            select(Reminder)
            .where(*conditions)
            .order_by(Reminder.business_date.desc(), Reminder.created_at)
            .limit(limit)
            .offset(offset)
        )
        items = [
            ReminderOut(
                id=r.id,
                loan_id=r.loan_id,
                event=r.event,
                event_zh=EVENTS_ZH.get(r.event, r.event),
                ref_date=r.ref_date,
                business_date=r.business_date,
                township_code=r.township_code,
                village_code=r.village_code,
                phone_masked=None if r.phone is None else mask_phone(r.phone),
                phone=r.phone
                if sees_full_id(
                    actor, township_code=r.township_code, at_her_bank=r.bank_code == actor.bank_code
                )
                else None,
                amount=None if r.amount is None else fen_to_str(r.amount),
                message=r.message,
                sent_at=r.sent_at,
                channel=r.channel,
            )
            for r in rows
        ]
        return Page[ReminderOut](items=items, total=int(total or 0), limit=limit, offset=offset)
