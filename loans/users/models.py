from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import UUIDv7AuditBase


class User(UUIDv7AuditBase):
    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role <> 'bank_liaison' OR bank_code IS NOT NULL", name="bank_liaison_has_bank"),
        CheckConstraint("role = 'admin' OR region_code IS NOT NULL", name="scoped_user_has_region"),
    )

    username: Mapped[str] = mapped_column(String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    bank_code: Mapped[str | None] = mapped_column(ForeignKey("bank.code"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Carried in every token issued to the user; raised when the user's access changes, which ends those tokens.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
