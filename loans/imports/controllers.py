from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.imports.models import ImportRow, RepaymentImport
from loans.imports.schemas import ImportOut, ImportRowOut
from loans.imports.service import ImportService
from loans.money import fen_to_str
from loans.settings import Settings


def import_out(
    batch: RepaymentImport, rows: list[ImportRow] | None = None, rows_total: int | None = None
) -> ImportOut:
    return ImportOut(
        id=batch.id,
        status=batch.status,
        filename=batch.filename,
        bank_code=batch.bank_code,
        total_rows=batch.total_rows,
        posted=batch.posted,
        duplicates=batch.duplicates,
        rejected=batch.rejected,
        error=batch.error,
        created_at=batch.created_at,
        finished_at=batch.finished_at,
        rows=None
        if rows is None
        else [
            ImportRowOut(
                row_no=r.row_no,
                contract_no=r.contract_no,
                bank_txn_ref=r.bank_txn_ref,
                paid_on=r.paid_on,
                amount=None if r.amount is None else fen_to_str(r.amount),
                outcome=r.outcome,
                reason=r.reason,
                repayment_id=r.repayment_id,
            )
            for r in rows
        ],
        rows_total=rows_total,
    )


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["imports"]

    @post("/repayments", status_code=202)
    async def upload_repayments(
        self,
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> ImportOut:
        content = await data.read()
        batch = await ImportService(db_session, actor).upload(
            data.filename or "upload.csv", content, today(settings)
        )
        # The job must find the committed row: commit before enqueueing (the plugin's commit comes later).
        await db_session.commit()
        await request.app.state.redis.enqueue_job(
            "process_repayment_import", str(batch.id), _job_id=f"repayment-import:{batch.id}"
        )
        return import_out(batch)

    @get("/{import_id:uuid}")
    async def get_import(
        self,
        import_id: UUID,
        db_session: AsyncSession,
        actor: Actor,
        outcome: str | None = Parameter(default=None, description="posted|duplicate|rejected"),
        limit: int = Parameter(default=100, ge=1, le=1000),
        offset: int = Parameter(default=0, ge=0),
    ) -> ImportOut:
        service = ImportService(db_session, actor)
        batch = await service.get(import_id)
        rows, total = await service.rows(import_id, outcome, limit, offset)
        return import_out(batch, rows, total)
