"""an append-only log of full ID number reads (SPEC section 1), refused UPDATE and DELETE like the audit events

Revision ID: 4b8f6d0e2c53
Revises: 3a7e5c9d1b42
Create Date: 2026-12-03 08:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4b8f6d0e2c53"
down_revision: str | None = "3a7e5c9d1b42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "id_access_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("applicant_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_id_access_log")),
    )
    op.create_index("ix_id_access_log_applicant", "id_access_log", ["applicant_id", "at"])
    op.create_index("ix_id_access_log_user", "id_access_log", ["user_id", "at"])
    op.execute(
        """
        CREATE FUNCTION id_access_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the ID access log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER id_access_log_append_only BEFORE UPDATE OR DELETE ON id_access_log "
        "FOR EACH ROW EXECUTE FUNCTION id_access_log_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER id_access_log_append_only ON id_access_log")
    op.execute("DROP FUNCTION id_access_log_refuse_change()")
    op.drop_table("id_access_log")
