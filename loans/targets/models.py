from __future__ import annotations

from uuid import UUID

from advanced_alchemy.mixins import AuditColumns
from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase


class LendingTarget(DefaultBase, AuditColumns):
    """A county's annual lending target (e.g. 2000万元), set by the county federation."""

    __tablename__ = "lending_target"

    county_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id"))
