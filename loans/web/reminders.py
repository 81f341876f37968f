"""提醒: the reminders outbox (what close of business wrote for which loan, to which phone, and whether the sender
sent it), filtered by the business date and the state, through the service the API's list uses."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Controller, Response, get
from litestar.params import Parameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.reminders.controllers import ReminderOut, reminder_out
from loans.reminders.outbox import EVENTS_ZH
from loans.reminders.service import STATES, ReminderFilter, ReminderService
from loans.settings import Settings
from loans.web.export import xlsx_response
from loans.web.labels import label
from loans.web.pages import page
from loans.web.paging import EXPORT_LIMIT, PER_PAGE, pager, query_choice, query_date

EXPORT_HEADERS = (
    "业务日期",
    "提醒事项",
    "合同编号",
    "手机号",
    "金额（元）",
    "短信内容",
    "状态",
    "发送时间",
    "渠道",
)


def _filter(
    written_from: str | None, written_to: str | None, state: str | None, event: str | None
) -> ReminderFilter:
    return ReminderFilter(
        written_from=query_date(written_from),
        written_to=query_date(written_to),
        event=query_choice(event, EVENTS_ZH),
        state=query_choice(state, STATES),
    )


async def _found(
    session: AsyncSession, actor: Actor, found: ReminderFilter, *, limit: int, offset: int
) -> tuple[list[ReminderOut], int]:
    listed, total = await ReminderService(session, actor).search(found, limit=limit, offset=offset)
    return [reminder_out(r.reminder, r.contract_no, actor) for r in listed], total


class ReminderPages(Controller):
    path = "/reminders"
    include_in_schema = False

    @get("/")
    async def list_reminders(
        self,
        db_session: AsyncSession,
        actor: Actor,
        written_from: str | None = Parameter(query="from", default=None),
        written_to: str | None = Parameter(query="to", default=None),
        send_state: str | None = Parameter(query="state", default=None),
        event: str | None = None,
        page_no: int = Parameter(query="page", default=1, ge=1),
    ) -> Template:
        filters = {"from": written_from, "to": written_to, "state": send_state, "event": event}
        reminders, total = await _found(
            db_session,
            actor,
            _filter(written_from, written_to, send_state, event),
            limit=PER_PAGE,
            offset=pager(0, page_no, filters).offset,
        )
        return page(
            "reminders/list.html",
            reminders=reminders,
            states=list(STATES),
            events=list(EVENTS_ZH),
            filters=filters,
            pager=pager(total, page_no, filters),
        )

    @get("/export")
    async def export_reminders(
        self,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        written_from: str | None = Parameter(query="from", default=None),
        written_to: str | None = Parameter(query="to", default=None),
        send_state: str | None = Parameter(query="state", default=None),
        event: str | None = None,
    ) -> Response:
        reminders, _ = await _found(
            db_session,
            actor,
            _filter(written_from, written_to, send_state, event),
            limit=EXPORT_LIMIT,
            offset=0,
        )
        zone = ZoneInfo(settings.timezone)
        return xlsx_response(
            "提醒",
            EXPORT_HEADERS,
            (
                (
                    r.business_date.isoformat(),
                    r.event_zh,
                    r.contract_no,
                    r.phone or r.phone_masked or "",
                    r.amount or "",
                    r.message,
                    label("reminder_state", r.state),
                    r.sent_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if r.sent_at else "",
                    r.channel or "",
                )
                for r in reminders
            ),
            today(settings),
        )
