"""allocation lines keyed to their repayment and its loan together: one foreign key check a line (a bank file's
COPY of allocation lines spent half its time on two), and a line can no longer name another loan than its
repayment's

Revision ID: 9f1c3b5d7e24
Revises: 8d4f0b2a6e31
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9f1c3b5d7e24"
down_revision: str | None = "8d4f0b2a6e31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINE_KEY = "fk_repayment_allocation_repayment_id_repayment"


def upgrade() -> None:
    op.create_unique_constraint("uq_repayment_id_loan_id", "repayment", ["id", "loan_id"])
    op.drop_constraint("fk_repayment_allocation_loan_id_loan", "repayment_allocation", type_="foreignkey")
    op.drop_constraint(_LINE_KEY, "repayment_allocation", type_="foreignkey")
    # added unchecked, then checked: the check reads every line once without blocking writes meanwhile
    op.create_foreign_key(
        _LINE_KEY,
        "repayment_allocation",
        "repayment",
        ["repayment_id", "loan_id"],
        ["id", "loan_id"],
        postgresql_not_valid=True,
    )
    op.execute(f"ALTER TABLE repayment_allocation VALIDATE CONSTRAINT {_LINE_KEY}")


def downgrade() -> None:
    op.drop_constraint(_LINE_KEY, "repayment_allocation", type_="foreignkey")
    op.create_foreign_key(_LINE_KEY, "repayment_allocation", "repayment", ["repayment_id"], ["id"])
    op.create_foreign_key(
        "fk_repayment_allocation_loan_id_loan", "repayment_allocation", "loan", ["loan_id"], ["id"]
    )
    op.drop_constraint("uq_repayment_id_loan_id", "repayment", type_="unique")
