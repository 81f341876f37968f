from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from loans.core.schemas import OutSchema, Schema


class JobCreate(Schema):
    kind: Literal["close_of_business"]
    business_date: date


class JobOut(OutSchema):
    id: UUID
    kind: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
