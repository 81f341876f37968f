"""我的待办: what waits for this user, with counts, derived from the workflow table and the user's role."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Controller, Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applications.service import ApplicationService
from loans.applications.workflow import Status, waiting_statuses
from loans.core.actor import Actor
from loans.loans.service import LoanService
from loans.settings import Settings
from loans.web.labels import WAITING_ZH
from loans.web.listing import application_rows
from loans.web.pages import page

RECENT = 10


@dataclass(frozen=True, slots=True)
class WorkItem:
    label: str
    count: int
    href: str


class TodoPages(Controller):
    include_in_schema = False

    @get("/todo")
    async def todo(
        self, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template:
        applications = ApplicationService(db_session, actor, settings)
        counts = await applications.count_by_status()
        waiting = [
            s for s in Status if any(s in sources for sources in waiting_statuses(actor.role).values())
        ]
        items = [
            WorkItem(WAITING_ZH[s], counts.get(s, 0), f"/applications?status={s.value}") for s in waiting
        ]
        overdue = (await LoanService(db_session, actor).count_by_status()).get("overdue", 0)
        items.append(WorkItem("逾期贷款", overdue, "/loans?status=overdue"))
        views, _ = await applications.search(
            status=None, region_code=None, applicant_id=None, limit=RECENT, offset=0, statuses=waiting
        )
        rows = await application_rows(request, db_session, actor, settings, views)
        return page("todo.html", items=items, rows=rows, has_queue=bool(waiting))
