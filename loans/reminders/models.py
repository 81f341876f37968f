from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import UUIDv7AuditBase


class Reminder(UUIDv7AuditBase):
    """Outbox row: one per loan, event and reference date, whatever number of reruns."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("loan_id", "event", "ref_date", name="reminder_once"),)

    loan_id: Mapped[UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    ref_date: Mapped[date] = mapped_column(Date)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    county_code: Mapped[str] = mapped_column(String(12))
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    village_code: Mapped[str] = mapped_column(String(12))
    bank_code: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    send_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    send_error: Mapped[str | None] = mapped_column(Text)
