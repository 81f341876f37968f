"""loan project: the project a loan was granted for (type, jobs expected), kept on the loan as signed — an
application never changes once disbursed — so that reading a county's loans needs no join with their applications

Revision ID: 5b8d2f4e6a13
Revises: a9d3e5b7c2f4
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8d2f4e6a13"
down_revision: str | None = "a9d3e5b7c2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loan", sa.Column("project_type", sa.String(length=20), nullable=True))
    op.add_column("loan", sa.Column("jobs_expected", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE loan l SET project_type = a.project_type, jobs_expected = a.jobs_expected
        FROM application a WHERE a.id = l.application_id
        """
    )
    op.alter_column("loan", "project_type", nullable=False)
    op.alter_column("loan", "jobs_expected", nullable=False)


def downgrade() -> None:
    op.drop_column("loan", "jobs_expected")
    op.drop_column("loan", "project_type")
