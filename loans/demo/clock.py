"""The demo story's clock: the story time stamped on every row and audit event as it is flushed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from advanced_alchemy.mixins import AuditColumns
from sqlalchemy.orm import Session

from loans.audit.models import AuditEvent


class StoryClock:
    """The demo story's "now", stamped on every row and audit event as it is flushed.

    The services take each step's date as an argument but stamp times with the wall clock:
    audit events (`at`) and `created_at`/`updated_at`. The story happens over the past months, so a
    `before_flush` listener stamps new and changed rows with the story time of the step being played
    (the loader flushes before it moves the clock on).
    """

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self.now = datetime.now(UTC)
        self._steps_on: dict[date, int] = {}

    def set(self, day: date) -> datetime:
        n = self._steps_on[day] = self._steps_on.get(day, -1) + 1
        minutes = 9 * 60 + (n * 7) % (8 * 60)  # steps of one day are spread over office hours
        self.now = datetime.combine(day, time(minutes // 60, minutes % 60), self.zone)
        return self.now

    def stamp(self, session: Session, _context: Any, _instances: Any) -> None:
        for obj in session.new:
            if isinstance(obj, AuditEvent):
                if obj.at is None:
                    obj.at = self.now
            elif isinstance(obj, AuditColumns):
                obj.created_at = obj.updated_at = self.now
        for obj in session.dirty:
            if isinstance(obj, AuditColumns) and session.is_modified(obj, include_collections=False):
                obj.updated_at = self.now
