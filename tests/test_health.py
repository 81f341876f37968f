from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from loans.outbox.models import WorkerBeat
from loans.outbox.service import beat


async def test_health_fails_without_a_worker_beating_within_a_minute(client, engine):
    nobody = await client.get("/health")
    assert nobody.status_code == 503, nobody.text
    assert nobody.json()["worker"] == "no worker has ever beaten"
    assert (nobody.json()["database"], nobody.json()["redis"]) == ("ok", "ok")
    worker_id = uuid4()
    async with AsyncSession(engine) as session:
        await beat(session, worker_id, datetime.now(UTC))
    beating = await client.get("/health")
    assert beating.status_code == 200, beating.text
    assert (beating.json()["status"], beating.json()["worker"]) == ("ok", "ok")
    async with AsyncSession(engine) as session:
        stale = datetime.now(UTC) - timedelta(seconds=61)
        await session.execute(update(WorkerBeat).where(WorkerBeat.id == worker_id).values(beat_at=stale))
        await session.commit()
    silent = await client.get("/health")
    assert silent.status_code == 503 and silent.json()["worker"].startswith("no worker beat for 6")
