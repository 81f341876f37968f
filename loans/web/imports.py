"""银行还款文件: the template, the upload, its progress while the worker posts it, each row's outcome, the history."""

from __future__ import annotations

from functools import partial
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.http import attachment
from loans.imports.parsing import COLUMNS
from loans.imports.service import BOOK_UPLOADERS, ImportService, queue_import
from loans.imports.template import XLSX_MEDIA_TYPE
from loans.settings import Settings
from loans.web.export import xlsx_response
from loans.web.forms import FORM_ERRORS, field_errors, refusal_status, rollback
from loans.web.pages import page
from loans.web.paging import PageNo, one_page

OUTCOMES = ("posted", "created", "duplicate", "rejected")
UNFINISHED = ("queued", "running")


class ImportPages(Controller):
    path = "/imports"
    include_in_schema = False

    @get("/")
    async def imports_page(self, db_session: AsyncSession, actor: Actor) -> Template:
        return await _history_page(db_session, actor, {})

    @get("/template")
    async def template(self, settings: Settings) -> Response:
        """The columns the upload reads, under their first Chinese names (any listed alias is read too)."""
        return xlsx_response(
            "银行还款文件模板", [names[0] for names in COLUMNS.values()], [], today(settings)
        )

    @get("/loans/template")
    async def loan_book_template(
        self, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Response:
        """The loan book's template, its example row filled in from the user's county."""
        content = await ImportService(db_session, actor).book_template(today(settings))
        return attachment(content, XLSX_MEDIA_TYPE, "贷款台账导入模板.xlsx")

    @post("/loans")
    async def upload_loan_book(
        self,
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
    ) -> Template | Redirect:
        try:
            batch = await ImportService(db_session, actor).upload_book(
                data.filename or "book.csv", await data.read()
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            # the loan book's file field is "book" on the page, beside the repayment file's "file"
            errors = {("book" if field == "file" else field): m for field, m in field_errors(exc).items()}
            return await _history_page(db_session, actor, errors, status_code=refusal_status(exc))
        await queue_import(db_session, request.app.state.redis, batch)
        return Redirect(f"/imports/{batch.id}", status_code=303)

    @post("/")
    async def upload(
        self,
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
        request: Request,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> Template | Redirect:
        try:
            batch = await ImportService(db_session, actor).upload(
                data.filename or "upload.csv", await data.read(), today(settings)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return await _history_page(db_session, actor, field_errors(exc), status_code=refusal_status(exc))
        await queue_import(db_session, request.app.state.redis, batch)
        return Redirect(f"/imports/{batch.id}", status_code=303)

    @get("/{import_id:uuid}")
    async def import_page(
        self,
        import_id: UUID,
        db_session: AsyncSession,
        actor: Actor,
        outcome: str | None = None,
        page_no: PageNo = 1,
    ) -> Template:
        service = ImportService(db_session, actor)
        batch = await service.get(import_id)
        filters = {"outcome": outcome}
        rows, pager = await one_page(partial(service.rows, import_id, outcome), page_no, filters)
        return page(
            "imports/detail.html",
            batch=batch,
            rows=rows,
            outcomes=OUTCOMES,
            filters=filters,
            pager=pager,
            unfinished=batch.status in UNFINISHED,
        )

    @get("/{import_id:uuid}/progress")
    async def progress(self, import_id: UUID, db_session: AsyncSession, actor: Actor) -> Template:
        """Polled by the page while the worker posts the file; once it is done the page reloads with the rows."""
        batch = await ImportService(db_session, actor).get(import_id)
        finished = batch.status not in UNFINISHED
        response = page("imports/_progress.html", batch=batch, unfinished=not finished)
        if finished:
            response.headers["HX-Refresh"] = "true"
        return response


async def _history_page(
    session: AsyncSession, actor: Actor, errors: dict[str, str], *, status_code: int = 200
) -> Template:
    return page(
        "imports/list.html",
        status_code=status_code,
        batches=await ImportService(session, actor).history(),
        errors=errors,
        columns=COLUMNS,
        books=actor.role in BOOK_UPLOADERS,
    )
