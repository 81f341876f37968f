from __future__ import annotations

from datetime import date
from uuid import UUID

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import UUIDv7AuditBase


class Applicant(UUIDv7AuditBase):
    """申请人. Birth date comes from the national ID; the region path from the village."""

    __tablename__ = "applicant"

    national_id: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date] = mapped_column(Date)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(30)), default=list)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))


class Training(UUIDv7AuditBase):
    """创业培训: a course an applicant attended (SYB/IYB, e-commerce, skills)."""

    __tablename__ = "training"

    applicant_id: Mapped[UUID] = mapped_column(ForeignKey("applicant.id"), index=True)
    course: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date] = mapped_column(Date)
    finished_on: Mapped[date] = mapped_column(Date)
    certificate_no: Mapped[str | None] = mapped_column(String(60))
