"""dated workflow steps: the application keeps the date each step took effect on paper (submitted, reviewed,
decided, withdrawn) and audit events carry their effective date beside when they were entered; applications
that predate this get their steps' dates from when they were entered (the only date they had)

Revision ID: 3e7a1c9d5b42
Revises: 9f1c3b5d7e24
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from loans.settings import get_settings

revision: str = "3e7a1c9d5b42"
down_revision: str | None = "9f1c3b5d7e24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STEP_ACTIONS = {
    "submitted_on": "'submit'",
    "reviewed_on": "'county_recommend', 'county_reject'",
    "withdrawn_on": "'withdraw'",
}


def upgrade() -> None:
    for column in ("submitted_on", "reviewed_on", "decided_on", "withdrawn_on"):
        op.add_column("application", sa.Column(column, sa.Date(), nullable=True))
    # Existing audit events stay as written (append-only): the history reads their `at` as their date.
    op.add_column("audit_event", sa.Column("effective_on", sa.Date(), nullable=True))
    zone = "'" + get_settings().timezone.replace("'", "''") + "'"
    op.execute(f"UPDATE application SET decided_on = (decided_at AT TIME ZONE {zone})::date")
    for column, actions in _STEP_ACTIONS.items():
        op.execute(
            f"""
            UPDATE application a SET {column} = e.day
            FROM (SELECT entity_id, max((at AT TIME ZONE {zone})::date) AS day FROM audit_event
                  WHERE entity_type = 'application' AND action IN ({actions}) GROUP BY entity_id) e
            WHERE e.entity_id = a.id::text
            """
        )


def downgrade() -> None:
    op.drop_column("audit_event", "effective_on")
    for column in ("withdrawn_on", "decided_on", "reviewed_on", "submitted_on"):
        op.drop_column("application", column)
