"""allocation paid_on for reports: the repayment's date on each allocation line, so that reports read the
lines without joining the (wide) repayment table

Revision ID: d0b4c704592d
Revises: ccc4d17940c3
Create Date: 2026-11-23 03:32:44.373092
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0b4c704592d"
down_revision: str | None = "ccc4d17940c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("repayment_allocation", sa.Column("paid_on", sa.Date(), nullable=True))
    op.execute(
        "UPDATE repayment_allocation a SET paid_on = r.paid_on FROM repayment r WHERE r.id = a.repayment_id"
    )
    op.alter_column("repayment_allocation", "paid_on", nullable=False)


def downgrade() -> None:
    op.drop_column("repayment_allocation", "paid_on")
