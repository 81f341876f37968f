from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase, UUIDv7AuditBase


class Application(UUIDv7AuditBase):
    """A loan application on its way from the village to the bank (SPEC section 3)."""

    __tablename__ = "application"
    # A region's partnerships: the reports find the partners through them (a partnership alone has any).
    __table_args__ = (
        Index(
            "ix_application_partnership_county",
            "county_code",
            postgresql_where=text("borrower_kind = 'partnership'"),
        ),
    )

    applicant_id: Mapped[UUID] = mapped_column(ForeignKey("applicant.id"), index=True)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("loan_product.id"), index=True)
    borrower_kind: Mapped[str] = mapped_column(String(20))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18))
    amount_requested: Mapped[int] = mapped_column(BigInteger)
    term_months: Mapped[int] = mapped_column(Integer)
    repayment_method: Mapped[str] = mapped_column(String(40))
    has_business_licence: Mapped[bool] = mapped_column(Boolean)
    business_licence_no: Mapped[str | None] = mapped_column(String(60))
    guarantee_fund_id: Mapped[UUID | None] = mapped_column(ForeignKey("guarantee_fund.id"), index=True)
    bank_code: Mapped[str | None] = mapped_column(ForeignKey("bank.code"), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)

    county_code: Mapped[str] = mapped_column(String(12), index=True)
    township_code: Mapped[str] = mapped_column(String(12), index=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)

    project_type: Mapped[str] = mapped_column(String(20))
    project_description: Mapped[str] = mapped_column(Text)
    project_investment: Mapped[int] = mapped_column(BigInteger)
    jobs_expected: Mapped[int] = mapped_column(Integer)

    village_certificate_no: Mapped[str | None] = mapped_column(String(60))
    village_committee: Mapped[str | None] = mapped_column(String(200))
    village_certified_on: Mapped[date | None] = mapped_column(Date)

    # The date each later step took effect on paper (SPEC section 3): reports and the next step's checks use
    # these, not when the step was entered (that is the audit event's `at`).
    submitted_on: Mapped[date | None] = mapped_column(Date)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)

    county_opinion: Mapped[str | None] = mapped_column(Text)

    approved_amount: Mapped[int | None] = mapped_column(BigInteger)
    approved_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 6))
    approved_term_months: Mapped[int | None] = mapped_column(Integer)
    approved_method: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))


class ApplicationMember(DefaultBase):
    """Every woman an application supports: the applicant herself, and each partner of a partnership."""

    __tablename__ = "application_member"

    application_id: Mapped[UUID] = mapped_column(
        ForeignKey("application.id", ondelete="CASCADE"), primary_key=True
    )
    applicant_id: Mapped[UUID] = mapped_column(ForeignKey("applicant.id"), primary_key=True, index=True)
