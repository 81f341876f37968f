"""loan last visit: each loan keeps the date and job count of its latest post-loan visit, so that the county risk
page on a date no visit is after reads one row per loan instead of every visit; visits indexed by date for that check

Revision ID: 7c3e9a1f5d20
Revises: 5b8d2f4e6a13
Create Date: 2026-12-02 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e9a1f5d20"
down_revision: str | None = "5b8d2f4e6a13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loan", sa.Column("last_visit_on", sa.Date(), nullable=True))
    op.add_column("loan", sa.Column("last_visit_jobs", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE loan l SET last_visit_on = v.visited_on, last_visit_jobs = v.jobs_now
        FROM (SELECT DISTINCT ON (loan_id) loan_id, visited_on, jobs_now FROM follow_up
              ORDER BY loan_id, visited_on DESC, jobs_now DESC) v
        WHERE v.loan_id = l.id
        """
    )
    op.create_index(op.f("ix_follow_up_visited_on"), "follow_up", ["visited_on"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_follow_up_visited_on"), table_name="follow_up")
    op.drop_column("loan", "last_visit_jobs")
    op.drop_column("loan", "last_visit_on")
