from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.models import AuditEvent
from loans.core.actor import Actor

Row = TypeVar("Row")

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


async def add_recorded(
    session: AsyncSession,
    actor: Actor,
    row: Row,
    *,
    entity_type: str,
    action: str,
    after: dict[str, Any],
    entity_id: object | None = None,
) -> Row:
    """Add a new row, flush it (its id and defaults are set) and record its creation in the same transaction.
    ``entity_id`` defaults to the row's ``id``."""
    session.add(row)
    await session.flush()
    record_event(
        session,
        actor,
        entity_type=entity_type,
        entity_id=row.id if entity_id is None else entity_id,  # type: ignore[attr-defined]
        action=action,
        after=after,
    )
    return row
