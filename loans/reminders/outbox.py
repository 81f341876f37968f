"""Reminders written to an outbox by close of business; a pluggable sender drains it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from uuid import UUID

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.lending.delinquency import BORROWER_OWED
from loans.reminders.models import Reminder

log = structlog.get_logger()

EVENTS_ZH = {
    "due_in_7": "7天后到期",
    "due_today": "今日到期",
    "overdue_1": "逾期1天",
    "overdue_30": "逾期30天",
    "overdue_90": "逾期90天",
    "maturity_30": "30天后贷款到期",
}

_REMINDERS = f"""
WITH events AS (
    SELECT l.id AS loan_id, CASE WHEN i.due_date = :day THEN 'due_today' ELSE 'due_in_7' END AS event,
           i.due_date AS ref_date, sum({BORROWER_OWED}) AS amount
    FROM loan l JOIN installment i ON i.loan_id = l.id
    WHERE l.id BETWEEN :low AND :high AND l.status IN ('active', 'overdue')
      AND i.due_date IN (:day, :day + 7) AND {BORROWER_OWED} > 0
    GROUP BY l.id, i.due_date
  UNION ALL
    SELECT l.id, 'overdue_' || l.days_past_due, :day - l.days_past_due, l.overdue_principal
    FROM loan l
    WHERE l.id BETWEEN :low AND :high AND l.status IN ('active', 'overdue') AND l.days_past_due IN (1, 30, 90)
  UNION ALL
    SELECT l.id, 'maturity_30', l.maturity_date, l.outstanding_principal
    FROM loan l
    WHERE l.id BETWEEN :low AND :high AND l.status IN ('active', 'overdue') AND l.maturity_date = :day + 30
)
INSERT INTO reminder (id, loan_id, event, ref_date, business_date, county_code, township_code, village_code,
                      bank_code, phone, amount, message, created_at, updated_at)
SELECT gen_random_uuid(), e.loan_id, e.event, e.ref_date, :day, l.county_code, l.township_code, l.village_code,
       l.bank_code, a.phone, e.amount,
       '【巾帼贷款】' || a.name || '您好，您的贷款（合同' || l.contract_no || '）' ||
       CASE e.event
           WHEN 'due_in_7' THEN '将于' || e.ref_date || '到期应还' || y.yuan || '元，请按时还款。'
           WHEN 'due_today' THEN '今日（' || e.ref_date || '）到期应还' || y.yuan || '元，请按时还款。'
           WHEN 'maturity_30' THEN '将于' || e.ref_date || '到期，请提前准备归还本金。'
           ELSE '已逾期' || (:day - e.ref_date) || '天，请尽快还款，逾期将产生罚息并影响信用。'
       END,
       now(), now()
FROM events e JOIN loan l ON l.id = e.loan_id JOIN applicant a ON a.id = l.applicant_id
CROSS JOIN LATERAL (SELECT to_char(e.amount / 100.0, 'FM999999999990.00') AS yuan) y
ON CONFLICT ON CONSTRAINT reminder_once DO NOTHING
"""


async def write_reminders(session: AsyncSession, day: date, low: UUID, high: UUID) -> None:
    await session.execute(text(_REMINDERS), {"day": day, "low": low, "high": high})


class ReminderSender(Protocol):
    channel: str

    async def send(self, reminder: Reminder) -> None: ...


class LogSender:
    """The default sender: writes each reminder to the log. An SMS gateway is another class with `send`."""

    channel = "log"

    async def send(self, reminder: Reminder) -> None:
        log.info(
            "reminder",
            reminder_event=reminder.event,  # `event` is structlog's own: the message
            loan_id=str(reminder.loan_id),
            phone=reminder.phone,
            message=reminder.message,
        )


MAX_SEND_ATTEMPTS = 5


@dataclass(frozen=True)
class Drained:
    sent: int
    failed: int
    last_error: str | None


async def drain_outbox(session: AsyncSession, sender: ReminderSender, limit: int = 1000) -> Drained:
    """Send unsent reminders, claimed with SKIP LOCKED and marked in one transaction. A reminder the sender refuses
    keeps its error and is tried again at the next drain, MAX_SEND_ATTEMPTS times in all."""
    reminders = list(
        await session.scalars(
            select(Reminder)
            .where(Reminder.sent_at.is_(None), Reminder.send_attempts < MAX_SEND_ATTEMPTS)
            .order_by(Reminder.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    failed, last_error = 0, None
    for reminder in reminders:
        reminder.send_attempts += 1
        try:
            await sender.send(reminder)
        except Exception as exc:  # noqa: BLE001 - one refused reminder must not hold back the others
            failed, last_error = failed + 1, f"{exc.__class__.__name__}: {exc}"
            reminder.send_error = last_error
            log.warning("reminder not sent", reminder_id=str(reminder.id), error=last_error)
            continue
        reminder.sent_at, reminder.channel, reminder.send_error = datetime.now(UTC), sender.channel, None
    await session.commit()
    return Drained(len(reminders) - failed, failed, last_error)


async def failing_sends(session: AsyncSession) -> tuple[int, str | None]:
    """Unsent reminders whose last send failed, and the latest error."""
    failing = (Reminder.sent_at.is_(None), Reminder.send_error.is_not(None))
    count = await session.scalar(select(func.count()).select_from(Reminder).where(*failing))
    latest = await session.scalar(
        select(Reminder.send_error).where(*failing).order_by(Reminder.updated_at.desc()).limit(1)
    )
    return int(count or 0), latest
