"""loan due sums: the repayment-rate sums of each loan's installments due by the last closed business date,
so that the report over a province reads one row per loan instead of every installment

Revision ID: f2a6c8e1b3d7
Revises: c4f81e2d9a6b
Create Date: 2026-11-23 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f2a6c8e1b3d7"
down_revision: str | None = "c4f81e2d9a6b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "due_installments": sa.Integer(),
    "due_principal": sa.BigInteger(),
    "due_principal_repaid": sa.BigInteger(),
    "due_principal_on_time": sa.BigInteger(),
}


def upgrade() -> None:
    for name, type_ in COLUMNS.items():
        op.add_column("loan", sa.Column(name, type_, server_default="0", nullable=False))
    # Written as of the last closed business date (nothing when none was closed: the first close of business
    # computes them); the statement loans.loans.delinquency keeps them with, frozen here.
    op.execute(
        """
        UPDATE loan l SET due_installments = s.n, due_principal = s.principal, due_principal_repaid = s.repaid,
                          due_principal_on_time = s.on_time
        FROM (
            SELECT i.loan_id, count(*) AS n, sum(i.principal) AS principal,
                   sum(least(i.principal, i.paid_principal)) AS repaid,
                   sum(least(i.principal, i.on_time_principal)) AS on_time
            FROM installment i
            WHERE i.due_date <= (SELECT max(business_date) FROM business_day WHERE status = 'done')
            GROUP BY i.loan_id
        ) s
        WHERE l.id = s.loan_id
        """
    )


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("loan", name)
