from __future__ import annotations

from types import SimpleNamespace
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.http import UploadedFile, answering_files, attachment
from loans.core.schemas import Attributes, Offset
from loans.imports.models import ImportRow, RepaymentImport
from loans.imports.schemas import ImportOut, ImportRowOut
from loans.imports.service import ImportService, queue_import
from loans.imports.template import TEMPLATE_FILENAME, XLSX_MEDIA_TYPE
from loans.settings import Settings


def import_out(
    batch: RepaymentImport, rows: list[ImportRow] | None = None, rows_total: int | None = None
) -> ImportOut:
    # each kind of file writes only its own columns of a row (the other kind's stay NULL)
    shown_rows = None if rows is None else [ImportRowOut.model_validate(r) for r in rows]
    return ImportOut.model_validate(
        Attributes(SimpleNamespace(rows=shown_rows, rows_total=rows_total), batch)
    )


async def _queued(request: Request, db_session: AsyncSession, batch: RepaymentImport) -> ImportOut:
    await queue_import(db_session, request.app.state.redis, batch)
    return import_out(batch)


class ImportController(Controller):
    path = "/api/v1/imports"
    tags = ["imports"]

    @post("/repayments", status_code=202)
    async def upload_repayments(
        self,
        data: UploadedFile,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> ImportOut:
        content = await data.data.read()
        batch = await ImportService(db_session, actor).upload(
            data.data.filename or "upload.csv", content, today(settings)
        )
        return await _queued(request, db_session, batch)

    @post("/loans", status_code=202)
    async def upload_loan_book(
        self,
        data: UploadedFile,
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
    ) -> ImportOut:
        content = await data.data.read()
        batch = await ImportService(db_session, actor).upload_book(data.data.filename or "book.csv", content)
        return await _queued(request, db_session, batch)

    @get("/loans/template", operation_class=answering_files(XLSX_MEDIA_TYPE))
    async def loan_book_template(
        self, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Response:
        content = await ImportService(db_session, actor).book_template(today(settings))
        return attachment(content, XLSX_MEDIA_TYPE, TEMPLATE_FILENAME)

    @get("/{import_id:uuid}")
    async def get_import(
        self,
        import_id: UUID,
        db_session: AsyncSession,
        actor: Actor,
        outcome: str | None = Parameter(default=None, description="posted|created|duplicate|rejected"),
        limit: int = Parameter(default=100, ge=1, le=1000),
        offset: Offset = 0,
    ) -> ImportOut:
        service = ImportService(db_session, actor)
        batch = await service.get(import_id)
        rows, total = await service.rows(import_id, outcome, limit, offset)
        return import_out(batch, rows, total)
