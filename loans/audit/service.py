from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.models import AuditEvent
from loans.core.actor import Actor

EVENT_COLUMNS = (
    "actor_id", "actor", "role", "entity_type", "entity_id", "action", "from_status", "to_status", "before", "after",
)  # fmt: skip


def event_values(
    actor: Actor,
    *,
    entity_type: str,
    entity_id: object,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit event's column values."""
    return {
        "actor_id": actor.user_id,
        "actor": actor.username,
        "role": actor.role,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "before": before,
        "after": after,
    }


def record_event(
    session: AsyncSession, actor: Actor, *, effective_on: date | None = None, **event: Any
) -> AuditEvent:
    """Add an audit event (the fields of ``event_values``, and the date the change took effect) to the caller's
    transaction: it lands exactly when the change does."""
    row = AuditEvent(**event_values(actor, **event), effective_on=effective_on)
    session.add(row)
    return row
