"""user token version: every token carries its user's version, raised on deactivation, a password or scope
change and logout, so that those end the user's tokens at once

Revision ID: 3a7e5c1d9b42
Revises: 4b8f6d0e2c53
Create Date: 2026-12-03 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3a7e5c1d9b42"
down_revision: str | None = "4b8f6d0e2c53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("app_user", "token_version")
