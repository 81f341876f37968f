from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase, UUIDv7AuditBase


class Applicant(UUIDv7AuditBase):
    """申请人. Birth date comes from the national ID; the region path from the village."""

    __tablename__ = "applicant"

    national_id: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date] = mapped_column(Date)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(30)), default=list)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))


# The search box (applicants.service.applicant_matches) by index, whatever the database's collation: a name's start
# with a pattern operator class, and the last digits of an ID number or a phone as the start of the reversed string.
_PATTERN = "text_pattern_ops"
Index("ix_applicant_name", Applicant.name, postgresql_ops={"name": _PATTERN})
Index(
    "ix_applicant_national_id_reversed",
    func.reverse(Applicant.national_id).label("national_id_reversed"),
    postgresql_ops={"national_id_reversed": _PATTERN},
)
Index(
    "ix_applicant_phone_reversed",
    func.reverse(Applicant.phone).label("phone_reversed"),
    postgresql_ops={"phone_reversed": _PATTERN},
)


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


class IdAccessLog(DefaultBase):
    """Every answer that showed an applicant's full ID number: who read whose, when, through which endpoint.
    Append-only: the migration installs a trigger that refuses UPDATE and DELETE."""

    __tablename__ = "id_access_log"
    __table_args__ = (
        Index("ix_id_access_log_applicant", "applicant_id", "at"),
        Index("ix_id_access_log_user", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    user_id: Mapped[UUID]
    username: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    applicant_id: Mapped[UUID]
    endpoint: Mapped[str] = mapped_column(String(200))
