"""jobs name the region and bank they cover

A report job's result holds the people of its scope, so a job is read only inside the region and bank it
covers; existing report jobs take them from the scope kept in their params (the one the report was built for).
Close of business and the weekly checks cover the whole deployment: NULL.

Revision ID: 3a7e5c9d1b42
Revises: 3e7a1c9d5b42
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3a7e5c9d1b42"
down_revision: str | None = "3e7a1c9d5b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the scope a report job was built for, as `ReportService.scope_for` computed it
BACKFILL = """
UPDATE job SET
    region_code = coalesce(params->>'region_code', params->'actor'->>'region_code'),
    bank_code = CASE WHEN params->'actor'->>'role' = 'bank_liaison' THEN params->'actor'->>'bank_code'
                     ELSE params->>'bank_code' END
WHERE kind = 'report'
"""


def upgrade() -> None:
    op.add_column("job", sa.Column("region_code", sa.String(length=12), nullable=True))
    op.add_column("job", sa.Column("bank_code", sa.String(length=32), nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("job", "bank_code")
    op.drop_column("job", "region_code")
