from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from loans.core.db import DefaultBase, UUIDv7AuditBase


class OutboxTask(UUIDv7AuditBase):
    """A row's background work, committed with the row: the dispatcher hands it to arq, a worker runs it.

    `handover` counts the times it was given to arq; each gets its own arq job id, and a run of an earlier
    handover finds it superseded and does nothing. `row_table` names the row's table, whose `status`, `error` and
    `finished_at` the dispatcher sets when it gives up on the work."""

    __tablename__ = "outbox_task"
    __table_args__ = (
        UniqueConstraint("task", "row_id", name="outbox_task_once"),
        Index(
            "ix_outbox_task_unfinished",
            "status",
            postgresql_where=text("status IN ('pending', 'enqueued', 'running')"),
        ),
    )

    task: Mapped[str] = mapped_column(String(60))
    row_table: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[UUID]
    status: Mapped[str] = mapped_column(String(10), default="pending")
    handover: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[UUID | None]
    handed_over_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)


class WorkerBeat(DefaultBase):
    """A running worker process's heartbeat; its row is removed when it stops cleanly."""

    __tablename__ = "worker_beat"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
