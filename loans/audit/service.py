from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.models import AuditEvent
from loans.core.actor import Actor


def record_event(
    session: AsyncSession,
    actor: Actor,
    *,
    entity_type: str,
    entity_id: object,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction: it lands exactly when the change does."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor=actor.username,
        role=actor.role,
        entity_type=entity_type,
        entity_id=str(entity_id),
        action=action,
        from_status=from_status,
        to_status=to_status,
        before=before,
        after=after,
    )
    session.add(event)
    return event
