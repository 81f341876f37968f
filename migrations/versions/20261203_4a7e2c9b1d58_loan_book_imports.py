"""loan book imports: an import has a kind (repayments or loans), a loan book may span banks, and its rows name
the bank, the loan and the applicant they created or found

Revision ID: 4a7e2c9b1d58
Revises: 3a7e5c1d9b42
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import advanced_alchemy.types.guid
import sqlalchemy as sa
from alembic import op

revision: str = "4a7e2c9b1d58"
down_revision: str | None = "3a7e5c1d9b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "repayment_import",
        sa.Column("kind", sa.String(length=12), server_default="repayments", nullable=False),
    )
    op.add_column("repayment_import", sa.Column("created", sa.Integer(), server_default="0", nullable=False))
    op.alter_column("repayment_import", "bank_code", existing_type=sa.String(length=32), nullable=True)
    op.add_column("import_row", sa.Column("bank_code", sa.String(length=32), nullable=True))
    op.add_column(
        "import_row", sa.Column("loan_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True)
    )
    op.add_column(
        "import_row", sa.Column("applicant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("import_row", "applicant_id")
    op.drop_column("import_row", "loan_id")
    op.drop_column("import_row", "bank_code")
    op.execute("DELETE FROM repayment_import WHERE bank_code IS NULL")
    op.alter_column("repayment_import", "bank_code", existing_type=sa.String(length=32), nullable=False)
    op.drop_column("repayment_import", "created")
    op.drop_column("repayment_import", "kind")
