from __future__ import annotations

from advanced_alchemy.mixins import AuditColumns
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase


class Bank(DefaultBase, AuditColumns):
    __tablename__ = "bank"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
