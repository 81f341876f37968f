"""applicant search indexes: the search box's name start and an ID number's or a phone's last digits by index

Revision ID: d39f036e9aea
Revises: 3443ffa2aae7
Create Date: 2026-12-03 11:46:27.165561
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d39f036e9aea"
down_revision: str | None = "3443ffa2aae7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATTERN = "text_pattern_ops"  # LIKE 'prefix%' by index under any collation (the database's is C.UTF-8, not C)


def upgrade() -> None:
    op.drop_index("ix_applicant_name", table_name="applicant")
    op.create_index("ix_applicant_name", "applicant", ["name"], postgresql_ops={"name": PATTERN})
    for column in ("national_id", "phone"):
        op.create_index(
            f"ix_applicant_{column}_reversed",
            "applicant",
            [sa.literal_column(f"reverse({column})").label(f"{column}_reversed")],
            postgresql_ops={f"{column}_reversed": PATTERN},
        )


def downgrade() -> None:
    for column in ("phone", "national_id"):
        op.drop_index(f"ix_applicant_{column}_reversed", table_name="applicant")
    op.drop_index("ix_applicant_name", table_name="applicant")
    op.create_index("ix_applicant_name", "applicant", ["name"])
