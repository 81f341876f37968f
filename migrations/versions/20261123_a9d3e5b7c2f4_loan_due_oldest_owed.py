"""loan due oldest owed: the oldest due date, among the installments due by the last closed business date, on
which the borrower still owes something — with the due sums, a loan's position on a later date needs only the
installments due since

Revision ID: a9d3e5b7c2f4
Revises: f2a6c8e1b3d7
Create Date: 2026-11-23 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9d3e5b7c2f4"
down_revision: str | None = "f2a6c8e1b3d7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loan", sa.Column("due_oldest_owed", sa.Date(), nullable=True))
    # Written as of the last closed business date, as loans.loans.delinquency keeps it (frozen here).
    op.execute(
        """
        UPDATE loan l SET due_oldest_owed = s.oldest
        FROM (
            SELECT i.loan_id, min(i.due_date) AS oldest
            FROM installment i
            WHERE i.due_date <= (SELECT max(business_date) FROM business_day WHERE status = 'done')
              AND (i.principal - i.paid_principal) + (i.borrower_interest - i.cancelled_interest - i.paid_interest)
                  + (i.penalty_accrued - i.paid_penalty) > 0
            GROUP BY i.loan_id
        ) s
        WHERE l.id = s.loan_id
        """
    )


def downgrade() -> None:
    op.drop_column("loan", "due_oldest_owed")
