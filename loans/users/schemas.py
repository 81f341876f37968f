from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from loans.core.roles import Role
from loans.core.schemas import OutSchema, RegionCode, Schema
from loans.users.password_policy import PASSWORD_MIN_LENGTH

NewPassword = Annotated[
    str,
    Field(
        min_length=PASSWORD_MIN_LENGTH,
        max_length=200,
        description="At least 10 characters; not the username, not a common password",
    ),
]


class TokenRequest(Schema):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class TokenResponse(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserCreate(Schema):
    username: str = Field(min_length=3, max_length=60, pattern=r"^[A-Za-z0-9_.\-]+$")
    password: NewPassword
    role: Role
    region_code: RegionCode | None = None
    bank_code: str | None = Field(default=None, max_length=32)
    display_name: str | None = Field(default=None, max_length=100)


class UserUpdate(Schema):
    """What an administrator changes of a user; fields left out stay as they are. A change of role, region, bank
    or ``active`` ends the user's tokens."""

    role: Role | None = None
    region_code: RegionCode | None = None
    bank_code: str | None = Field(default=None, max_length=32)
    active: bool | None = None
    display_name: str | None = Field(default=None, max_length=100)


class PasswordChange(Schema):
    old_password: str = Field(min_length=1, max_length=200)
    new_password: NewPassword


class UserOut(OutSchema):
    id: UUID
    username: str
    display_name: str | None
    role: str
    region_code: str | None
    bank_code: str | None
    is_active: bool
    created_at: datetime
