from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from loans.core.roles import Role
from loans.core.schemas import OutSchema, RegionCode, Schema


class TokenRequest(Schema):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserCreate(Schema):
    username: str = Field(min_length=3, max_length=60, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    region_code: RegionCode | None = None
    bank_code: str | None = Field(default=None, max_length=32)
    display_name: str | None = Field(default=None, max_length=100)


class UserOut(OutSchema):
    id: UUID
    username: str
    display_name: str | None
    role: str
    region_code: str | None
    bank_code: str | None
    is_active: bool
    created_at: datetime
