from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from loans.core.schemas import OutSchema, Schema


class VisitCreate(Schema):
    visited_on: date
    business_status: Literal["operating", "expanding", "struggling", "closed"]
    fund_use_as_agreed: bool
    jobs_now: int = Field(ge=0, le=10000)
    risk_level: Literal["low", "medium", "high"]
    notes: str | None = Field(default=None, max_length=4000)


class VisitOut(OutSchema):
    id: UUID
    loan_id: UUID
    visited_on: date
    business_status: str
    fund_use_as_agreed: bool
    jobs_now: int
    risk_level: str
    notes: str | None
