"""arq tasks. Each is idempotent (arq delivers at least once) and calls the same services as the API.

The tasks of jobs and imports run for outbox entries (`loans.outbox`): called with the row's id and the handover
number, they run once their entry is claimed; a cron that makes a job runs it here through its entry."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import text

from loans.cob.reconcile import LedgerMismatch, ledger_drift
from loans.cob.service import close_of_business as run_close_of_business
from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.roles import Role
from loans.imports.service import process_import
from loans.jobs.models import Job
from loans.jobs.service import run_tracked
from loans.outbox.service import add as add_to_outbox
from loans.outbox.worker import handed_over, run_here
from loans.reminders.outbox import LogSender, drain_outbox
from loans.reporting.locality import cluster_by_county
from loans.reporting.models import ReportFile
from loans.reporting.service import ReportRequest, ReportService


async def ping(ctx: dict[str, Any]) -> str:
    """A round trip through the worker and the database: proves the worker is alive and wired."""
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))
    return "pong"


@handed_over
async def process_repayment_import(
    ctx: dict[str, Any], import_id: UUID, _attempt: int
) -> dict[str, int | str]:
    """An uploaded import: a bank's repayment file or a loan book."""
    async with ctx["sessionmaker"]() as session:
        batch = await process_import(session, import_id, today(ctx["settings"]), ctx["settings"])
        return {
            "status": batch.status,
            "posted": batch.posted,
            "created": batch.created,
            "duplicates": batch.duplicates,
            "rejected": batch.rejected,
        }


@handed_over
async def close_of_business(ctx: dict[str, Any], job_id: UUID, attempt: int) -> dict[str, Any]:
    async def work(job: Job) -> dict[str, Any]:
        business_date = date.fromisoformat(job.params["business_date"])
        settings = ctx["settings"]
        days = await run_close_of_business(
            ctx["engine"],
            business_date,
            today(settings),
            lanes=settings.lanes,
            after_batch=ctx.get("after_cob_batch"),
        )
        return {"days_closed": [{**asdict(d), "business_date": d.business_date.isoformat()} for d in days]}

    return await run_tracked(ctx["sessionmaker"], job_id, attempt, ctx["max_tries"], work)


@handed_over
async def ledger_check(ctx: dict[str, Any], job_id: UUID, attempt: int) -> dict[str, Any]:
    """Re-sum the penalty and allocation ledgers against the installments. A difference fails the job with the
    first installment figures named, so it shows in `GET /jobs` and in the worker's log."""

    async def work(job: Job) -> dict[str, Any]:
        async with ctx["sessionmaker"]() as session:
            found, drifts = await ledger_drift(session, limit=10)
        if found:
            raise LedgerMismatch(found, drifts)
        return {"figures_disagreeing": 0}

    return await run_tracked(ctx["sessionmaker"], job_id, attempt, ctx["max_tries"], work)


@handed_over
async def cluster_counties(ctx: dict[str, Any], job_id: UUID, attempt: int) -> dict[str, Any]:
    """Put each county's rows back together on disk (`loans.reporting.locality`)."""

    async def work(job: Job) -> dict[str, Any]:
        return {"seconds": await cluster_by_county(ctx["engine"])}

    return await run_tracked(ctx["sessionmaker"], job_id, attempt, ctx["max_tries"], work)


async def _cron_job(ctx: dict[str, Any], task, kind: str, params: dict[str, Any]) -> Any:
    """A job the schedule makes: its row and outbox entry committed, then run in this worker."""
    async with ctx["sessionmaker"]() as session:
        job = Job(kind=kind, status="queued", params=params)
        session.add(job)
        await session.flush()
        await add_to_outbox(session, task.__name__, job)
        await session.commit()
    return await run_here(ctx, task, job.id)


async def daily_close_of_business(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: close yesterday (in the deployment's timezone), catching up any missed dates."""
    yesterday = today(ctx["settings"]) - timedelta(days=1)
    return await _cron_job(
        ctx, close_of_business, "close_of_business", {"business_date": yesterday.isoformat()}
    )


async def weekly_ledger_check(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: the ledger check, every Sunday."""
    return await _cron_job(ctx, ledger_check, "ledger_check", {})


async def weekly_county_clustering(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: the county clustering, every Sunday."""
    return await _cron_job(ctx, cluster_counties, "cluster_by_county", {})


@handed_over
async def build_report(ctx: dict[str, Any], job_id: UUID, attempt: int) -> dict[str, Any]:
    async def work(job: Job) -> dict[str, Any]:
        params = dict(job.params)
        caller = params.pop("actor")
        actor = Actor(
            UUID(caller["user_id"]),
            caller["username"],
            Role(caller["role"]),
            caller["region_code"],
            caller["bank_code"],
        )
        async with ctx["sessionmaker"]() as session:
            rendered = await ReportService(session, actor, ctx["settings"]).build(
                ReportRequest.from_params(params)
            )
            await session.merge(
                ReportFile(
                    job_id=job.id,
                    filename=rendered.filename,
                    media_type=rendered.media_type,
                    content=rendered.content,
                )
            )
            await session.commit()
        return {
            "filename": rendered.filename,
            "media_type": rendered.media_type,
            "bytes": len(rendered.content),
            "download": f"/api/v1/jobs/{job.id}/download",
        }

    return await run_tracked(ctx["sessionmaker"], job_id, attempt, ctx["max_tries"], work)


async def send_reminders(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: drain the reminder outbox. A drain that sent or failed something is a `send_reminders` job in
    `GET /jobs`, failed when any reminder was refused (the reminders keep their error for `/health`)."""
    started = datetime.now(UTC)
    try:
        async with ctx["sessionmaker"]() as session:
            drained = await drain_outbox(session, ctx.get("reminder_sender") or LogSender())
    except Exception as exc:
        await _record_send(ctx, started, {}, f"{exc.__class__.__name__}: {exc}")
        raise
    result = {"sent": drained.sent, "failed": drained.failed}
    if drained.sent or drained.failed:
        await _record_send(ctx, started, result, drained.last_error)
    return result


async def _record_send(
    ctx: dict[str, Any], started: datetime, result: dict[str, Any], error: str | None
) -> None:
    async with ctx["sessionmaker"]() as session:
        session.add(
            Job(
                kind="send_reminders",
                params={},
                status="failed" if error else "done",
                result=result,
                error=error,
                attempts=1,
                started_at=started,
                finished_at=datetime.now(UTC),
            )
        )
        await session.commit()
