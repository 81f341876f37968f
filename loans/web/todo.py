"""我的待办: what waits for this user, with counts, derived from the workflow table and the user's role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from litestar import Controller, get
from litestar.response import Template

from loans.applications.service import ApplicationService
from loans.applications.workflow import Status, waiting_statuses
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.funds.compensation import COMPENSATORS
from loans.lending.service import LoanService
from loans.lending.visit_cadence import VISIT_EVERY_DAYS
from loans.reminders.service import ReminderFilter, ReminderService
from loans.visits.service import VISITORS
from loans.web.followups import FOLLOW_UP_LISTS
from loans.web.labels import WAITING_ZH
from loans.web.listing import application_rows
from loans.web.pages import PageContext, page

RECENT = 10
# who follows the outbox: township staff, whose borrowers they are (SPEC: "township staff see them in their list")
REMINDER_WATCHERS = (Role.TOWNSHIP_STAFF,)
# who waits for a compensation: the county that pays it from the fund, the bank that is paid
CLAIM_WATCHERS = (*COMPENSATORS, Role.BANK_LIAISON)


@dataclass(frozen=True, slots=True)
class WorkItem:
    label: str
    count: int
    href: str


async def _follow_up(
    loans: LoanService, actor: Actor, day: date, show: str, text: str | None = None
) -> WorkItem:
    """A 贷后跟进 list's total, counted by the list's own filter."""
    listed = FOLLOW_UP_LISTS[show]
    count = await loans.count(listed.loans(day))
    return WorkItem(text or listed.title_for(actor), count, f"/follow-ups?show={show}")


async def _loan_work(loans: LoanService, actor: Actor, day: date) -> list[WorkItem]:
    """The overdue loans, and what the role does about loans: visits due, compensations the fund may pay."""
    if actor.role in VISITORS:
        items = [
            await _follow_up(loans, actor, day, "overdue"),
            await _follow_up(loans, actor, day, "visit_due", f"应走访贷款（超过{VISIT_EVERY_DAYS}天未走访）"),
        ]
    else:
        overdue = (await loans.count_by_status(["overdue"])).get("overdue", 0)
        items = [WorkItem("逾期贷款", overdue, "/loans?status=overdue")]
    if actor.role in CLAIM_WATCHERS:
        items.append(await _follow_up(loans, actor, day, "claimable"))
    return items


class TodoPages(Controller):
    include_in_schema = False

    @get("/todo")
    async def todo(self, ctx: PageContext) -> Template:
        actor = ctx.actor
        applications = ApplicationService(ctx.session, actor, ctx.settings)
        waiting = [
            s for s in Status if any(s in sources for sources in waiting_statuses(actor.role).values())
        ]
        counts = await applications.count_by_status(waiting)
        items = [
            WorkItem(WAITING_ZH[s], counts.get(s, 0), f"/applications?status={s.value}") for s in waiting
        ]
        items += await _loan_work(LoanService(ctx.session, actor), actor, ctx.today)
        if actor.role in REMINDER_WATCHERS:
            reminders = ReminderService(ctx.session, actor)
            for state, text in (("queued", "待发送提醒"), ("failed", "发送失败的提醒")):
                count = await reminders.count(ReminderFilter(state=state))
                items.append(WorkItem(text, count, f"/reminders?state={state}"))
        views, _ = await applications.search(
            status=None, region_code=None, applicant_id=None, limit=RECENT, offset=0, statuses=waiting
        )
        rows = await application_rows(ctx, views)
        return page("todo.html", items=items, rows=rows, has_queue=bool(waiting))
