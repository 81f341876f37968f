"""arq tasks. Each is idempotent (arq delivers at least once) and calls the same services as the API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
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
from loans.reminders.outbox import LogSender, drain_outbox
from loans.reporting.locality import cluster_by_county
from loans.reporting.models import ReportFile
from loans.reporting.service import ReportRequest, ReportService


async def ping(ctx: dict[str, Any]) -> str:
    """A round trip through the worker and the database: proves the worker is alive and wired."""
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))
    return "pong"


async def process_repayment_import(ctx: dict[str, Any], import_id: str) -> dict[str, int | str]:
    """An uploaded import: a bank's repayment file or a loan book."""
    async with ctx["sessionmaker"]() as session:
        batch = await process_import(session, UUID(import_id), today(ctx["settings"]), ctx["settings"])
        return {
            "status": batch.status,
            "posted": batch.posted,
            "created": batch.created,
            "duplicates": batch.duplicates,
            "rejected": batch.rejected,
        }


async def close_of_business(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    async def work(job: Job) -> dict[str, Any]:
        business_date = date.fromisoformat(job.params["business_date"])
        days = await run_close_of_business(
            ctx["engine"], business_date, today(ctx["settings"]), after_batch=ctx.get("after_cob_batch")
        )
        return {"days_closed": [{**asdict(d), "business_date": d.business_date.isoformat()} for d in days]}

    return await run_tracked(ctx["sessionmaker"], UUID(job_id), ctx["job_try"], ctx["max_tries"], work)


async def daily_close_of_business(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: close yesterday (in the deployment's timezone), catching up any missed dates."""
    async with ctx["sessionmaker"]() as session:
        job = Job(
            kind="close_of_business",
            status="queued",
            params={"business_date": (today(ctx["settings"]) - timedelta(days=1)).isoformat()},
        )
        session.add(job)
        await session.commit()
    return await close_of_business(ctx, str(job.id))


async def weekly_ledger_check(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: re-sum the penalty and allocation ledgers against the installments. A difference fails the job
    with the first installment figures named, so it shows in `GET /jobs` and in the worker's log."""
    async with ctx["sessionmaker"]() as session:
        job = Job(kind="ledger_check", status="queued", params={})
        session.add(job)
        await session.commit()

    async def work(job: Job) -> dict[str, Any]:
        async with ctx["sessionmaker"]() as session:
            found, drifts = await ledger_drift(session, limit=10)
        if found:
            raise LedgerMismatch(found, drifts)
        return {"figures_disagreeing": 0}

    return await run_tracked(ctx["sessionmaker"], job.id, ctx["job_try"], ctx["max_tries"], work)


async def weekly_county_clustering(ctx: dict[str, Any]) -> dict[str, Any]:
    """Cron: put each county's rows back together on disk (`loans.reporting.locality`)."""
    async with ctx["sessionmaker"]() as session:
        job = Job(kind="cluster_by_county", status="queued", params={})
        session.add(job)
        await session.commit()

    async def work(job: Job) -> dict[str, Any]:
        return {"seconds": await cluster_by_county(ctx["engine"])}

    return await run_tracked(ctx["sessionmaker"], job.id, ctx["job_try"], ctx["max_tries"], work)


async def build_report(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
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
            rendered = await ReportService(session, actor).build(ReportRequest.from_params(params))
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

    return await run_tracked(ctx["sessionmaker"], UUID(job_id), ctx["job_try"], ctx["max_tries"], work)


async def send_reminders(ctx: dict[str, Any]) -> int:
    async with ctx["sessionmaker"]() as session:
        return await drain_outbox(session, ctx.get("reminder_sender") or LogSender())
