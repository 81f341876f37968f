from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import UUIDv7AuditBase


class Visit(UUIDv7AuditBase):
    """贷后核查: a township officer's visit to a funded business."""

    __tablename__ = "follow_up"

    loan_id: Mapped[UUID] = mapped_column(ForeignKey("loan.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    business_status: Mapped[str] = mapped_column(String(12))
    fund_use_as_agreed: Mapped[bool] = mapped_column(Boolean)
    jobs_now: Mapped[int] = mapped_column(Integer)
    risk_level: Mapped[str] = mapped_column(String(8))
    notes: Mapped[str | None] = mapped_column(Text)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(12))
    village_code: Mapped[str] = mapped_column(String(12))
    bank_code: Mapped[str] = mapped_column(String(32))
    visited_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
