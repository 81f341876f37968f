"""installment on_time_principal: principal paid by standing repayments dated on or before the due date,
kept beside paid_principal so that a repayment-rate report as of today reads the installments alone

Revision ID: b7e2a9c31f05
Revises: d0b4c704592d
Create Date: 2026-11-23 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2a9c31f05"
down_revision: str | None = "d0b4c704592d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "installment", sa.Column("on_time_principal", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.execute(
        """
        UPDATE installment i SET on_time_principal = s.principal
        FROM (
            SELECT a.loan_id, a.seq, sum(a.principal) AS principal
            FROM repayment_allocation a JOIN installment d ON d.loan_id = a.loan_id AND d.seq = a.seq
            WHERE a.paid_on <= d.due_date
              AND NOT EXISTS (SELECT FROM repayment_reversal v WHERE v.repayment_id = a.repayment_id)
            GROUP BY a.loan_id, a.seq
        ) s
        WHERE i.loan_id = s.loan_id AND i.seq = s.seq
        """
    )


def downgrade() -> None:
    op.drop_column("installment", "on_time_principal")
