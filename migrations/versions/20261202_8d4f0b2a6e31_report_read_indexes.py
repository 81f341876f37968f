"""report read indexes: a county's partnership applications by their own small index, through which the reports
find the county's partners (a scan of every application of the county before); reversals by date, for the reports'
check that nothing was reversed after their date (a scan of every reversal before)

Revision ID: 8d4f0b2a6e31
Revises: 7c3e9a1f5d20
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d4f0b2a6e31"
down_revision: str | None = "7c3e9a1f5d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_application_partnership_county",
        "application",
        ["county_code"],
        unique=False,
        postgresql_where=sa.text("borrower_kind = 'partnership'"),
    )
    op.create_index(
        op.f("ix_repayment_reversal_reversed_on"), "repayment_reversal", ["reversed_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_repayment_reversal_reversed_on"), table_name="repayment_reversal")
    op.drop_index("ix_application_partnership_county", table_name="application")
