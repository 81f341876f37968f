from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.params import Parameter, QueryParameter
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.disclosure import mask_phone, sees_full_id
from loans.core.actor import Actor
from loans.core.schemas import AmountText, Offset, OutSchema, Page
from loans.money import fen_to_str
from loans.reminders.models import Reminder
from loans.reminders.outbox import EVENTS_ZH
from loans.reminders.service import ReminderFilter, ReminderService, state_of


class ReminderOut(OutSchema):
    id: UUID
    loan_id: UUID
    contract_no: str
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
    state: Literal["queued", "failed", "sent"]
    sent_at: datetime | None
    channel: str | None
    send_attempts: int
    send_error: str | None


def reminder_out(reminder: Reminder, contract_no: str, actor: Actor) -> ReminderOut:
    """The reminder as ``actor`` may see it: the phone in full only where she would see the borrower's full ID."""
    disclosed = sees_full_id(
        actor, township_code=reminder.township_code, at_her_bank=reminder.bank_code == actor.bank_code
    )
    return ReminderOut(
        id=reminder.id,
        loan_id=reminder.loan_id,
        contract_no=contract_no,
        event=reminder.event,
        event_zh=EVENTS_ZH.get(reminder.event, reminder.event),
        ref_date=reminder.ref_date,
        business_date=reminder.business_date,
        township_code=reminder.township_code,
        village_code=reminder.village_code,
        phone_masked=None if reminder.phone is None else mask_phone(reminder.phone),
        phone=reminder.phone if disclosed else None,
        amount=None if reminder.amount is None else fen_to_str(reminder.amount),
        message=reminder.message,
        state=state_of(reminder),
        sent_at=reminder.sent_at,
        channel=reminder.channel,
        send_attempts=reminder.send_attempts,
        send_error=reminder.send_error,
    )


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
        send_state: Annotated[
            Literal["queued", "failed", "sent"] | None, QueryParameter(name="state")
        ] = None,
        limit: int = Parameter(default=50, ge=1, le=500),
        offset: Offset = 0,
    ) -> Page[ReminderOut]:
        found = ReminderFilter(
            written_from=business_date, written_to=business_date, event=event, state=send_state
        )
        listed, total = await ReminderService(db_session, actor).search(found, limit=limit, offset=offset)
        items = [reminder_out(r.reminder, r.contract_no, actor) for r in listed]
        return Page[ReminderOut](items=items, total=total, limit=limit, offset=offset)
