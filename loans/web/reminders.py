"""提醒: the reminders outbox (what close of business wrote for which loan, to which phone, and whether the sender
sent it), filtered by the business date and the state, through the service the API's list uses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get
from litestar.di import Provide
from litestar.params import QueryParameter
from litestar.response import Template

from loans.reminders.controllers import ReminderOut, reminder_out
from loans.reminders.outbox import EVENTS_ZH
from loans.reminders.service import STATES, ReminderFilter, ReminderService
from loans.web.export import xlsx_response
from loans.web.labels import label
from loans.web.pages import PageContext, page
from loans.web.paging import EXPORT_LIMIT, PageNo, one_page, query_choice, query_date

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


@dataclass(frozen=True, slots=True)
class ReminderQuery:
    """The list's query as typed (``filters``, for the search bar and the pages' links) and as the service reads it."""

    filters: dict[str, str | None]
    found: ReminderFilter

    async def search(self, ctx: PageContext, *, limit: int, offset: int) -> tuple[list[ReminderOut], int]:
        listed, total = await ReminderService(ctx.session, ctx.actor).search(
            self.found, limit=limit, offset=offset
        )
        return [reminder_out(r.reminder, r.contract_no, ctx.actor) for r in listed], total


def reminder_query(
    written_from: Annotated[str | None, QueryParameter(name="from")] = None,
    written_to: Annotated[str | None, QueryParameter(name="to")] = None,
    send_state: Annotated[str | None, QueryParameter(name="state")] = None,
    event: str | None = None,
) -> ReminderQuery:
    return ReminderQuery(
        filters={"from": written_from, "to": written_to, "state": send_state, "event": event},
        found=ReminderFilter(
            written_from=query_date("from", written_from),
            written_to=query_date("to", written_to),
            event=query_choice("event", event, EVENTS_ZH),
            state=query_choice("state", send_state, STATES),
        ),
    )


class ReminderPages(Controller):
    path = "/reminders"
    include_in_schema = False
    dependencies = {"listing": Provide(reminder_query, sync_to_thread=False)}

    @get("/")
    async def list_reminders(
        self,
        ctx: PageContext,
        listing: ReminderQuery,
        page_no: PageNo = 1,
    ) -> Template:
        reminders, pager = await one_page(partial(listing.search, ctx), page_no, listing.filters)
        return page(
            "reminders/list.html",
            reminders=reminders,
            states=list(STATES),
            events=list(EVENTS_ZH),
            filters=listing.filters,
            pager=pager,
        )

    @get("/export")
    async def export_reminders(self, ctx: PageContext, listing: ReminderQuery) -> Response:
        reminders, _ = await listing.search(ctx, limit=EXPORT_LIMIT, offset=0)
        zone = ZoneInfo(ctx.settings.timezone)
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
            ctx.today,
        )
