"""installment fillfactor 85: updates (posting, the daily penalty) stay on their page as heap-only tuples,
so a loan's installments stay together and the indexes are not touched

Revision ID: c4f81e2d9a6b
Revises: b7e2a9c31f05
Create Date: 2026-11-23 05:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c4f81e2d9a6b"
down_revision: str | None = "b7e2a9c31f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Applies to pages written from now on; `VACUUM FULL installment` (or CLUSTER) repacks existing ones.
    op.execute("ALTER TABLE installment SET (fillfactor = 85)")


def downgrade() -> None:
    op.execute("ALTER TABLE installment RESET (fillfactor)")
