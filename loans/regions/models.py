from __future__ import annotations

from advanced_alchemy.mixins import AuditColumns
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase


class Region(DefaultBase, AuditColumns):
    __tablename__ = "region"
    __table_args__ = (CheckConstraint("level IN ('county','township','village')", name="region_level"),)

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
