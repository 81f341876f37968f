"""outbox for background work (a job or import row commits with its entry; a dispatcher hands entries to arq),
worker heartbeats, reminder send errors; the jobs and imports still waiting get their entries

Revision ID: 3443ffa2aae7
Revises: 9f1c3b5d7e24
Create Date: 2026-12-03 08:16:16.557626
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "3443ffa2aae7"
down_revision: str | None = "4a7e2c9b1d58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JOB_TASK = "CASE kind WHEN 'report' THEN 'build_report' WHEN 'cluster_by_county' THEN 'cluster_counties' ELSE kind END"


def upgrade() -> None:
    op.create_table(
        "outbox_task",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("task", sa.String(length=60), nullable=False),
        sa.Column("row_table", sa.String(length=60), nullable=False),
        sa.Column("row_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("handover", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_task")),
        sa.UniqueConstraint("task", "row_id", name="outbox_task_once"),
    )
    op.create_index(
        "ix_outbox_task_unfinished",
        "outbox_task",
        ["status"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'enqueued', 'running')"),
    )
    op.create_table(
        "worker_beat",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_beat")),
    )
    op.add_column("reminder", sa.Column("send_attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("reminder", sa.Column("send_error", sa.Text(), nullable=True))
    for table, task in (("repayment_import", "'process_repayment_import'"), ("job", _JOB_TASK)):
        op.execute(
            f"""INSERT INTO outbox_task (id, task, row_table, row_id, status, handover, attempts, created_at, updated_at)
            SELECT gen_random_uuid(), {task}, '{table}', id, 'pending', 0, 0, now(), now()
            FROM {table} WHERE status IN ('queued', 'running')"""
        )


def downgrade() -> None:
    op.drop_column("reminder", "send_error")
    op.drop_column("reminder", "send_attempts")
    op.drop_table("worker_beat")
    op.drop_index(
        "ix_outbox_task_unfinished",
        table_name="outbox_task",
        postgresql_where=sa.text("status IN ('pending', 'enqueued', 'running')"),
    )
    op.drop_table("outbox_task")
