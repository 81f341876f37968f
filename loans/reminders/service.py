"""The reminders outbox as its readers see it (every role, in its scope): what close of business wrote, for which
loan, and whether it was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.lending.models import Loan
from loans.reminders.models import Reminder

# A reminder's state in the outbox: waiting for the sender, refused by it at its last try (tried again at the
# next drain, up to outbox.MAX_SEND_ATTEMPTS), or sent.
STATES: dict[str, ColumnElement[bool]] = {
    "queued": Reminder.sent_at.is_(None) & Reminder.send_error.is_(None),
    "failed": Reminder.sent_at.is_(None) & Reminder.send_error.is_not(None),
    "sent": Reminder.sent_at.is_not(None),
}
UNSENT = ("queued", "failed")


def state_of(reminder: Reminder) -> str:
    if reminder.sent_at is not None:
        return "sent"
    return "queued" if reminder.send_error is None else "failed"


@dataclass(frozen=True, slots=True)
class ReminderFilter:
    """``written_from``/``written_to``: the business dates close of business wrote them for (both included)."""

    written_from: date | None = None
    written_to: date | None = None
    event: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class ListedReminder:
    reminder: Reminder
    contract_no: str


@dataclass
class ReminderService:
    session: AsyncSession
    actor: Actor

    def _conditions(self, found: ReminderFilter) -> list[ColumnElement[bool]]:
        conditions = [self.actor.scope_filter(Reminder)]
        if found.written_from:
            conditions.append(Reminder.business_date >= found.written_from)
        if found.written_to:
            conditions.append(Reminder.business_date <= found.written_to)
        if found.event:
            conditions.append(Reminder.event == found.event)
        if found.state:
            conditions.append(STATES[found.state])
        return conditions

    async def search(
        self, found: ReminderFilter, *, limit: int, offset: int
    ) -> tuple[list[ListedReminder], int]:
        """The latest business date first, each day in the order written; with the loan's contract number."""
        rows = await self.session.execute(
            select(Reminder, Loan.contract_no)
            .join(Loan, Loan.id == Reminder.loan_id)
            .where(*self._conditions(found))
            .order_by(Reminder.business_date.desc(), Reminder.created_at, Reminder.id)
            .limit(limit)
            .offset(offset)
        )
        listed = [ListedReminder(reminder, contract_no) for reminder, contract_no in rows]
        return listed, await self.count(found)

    async def count(self, found: ReminderFilter) -> int:
        conditions = self._conditions(found)
        return int(
            await self.session.scalar(select(func.count()).select_from(Reminder).where(*conditions)) or 0
        )
