"""The township's follow-up work in a real browser: 贷后走访登记 (from the loan's page, seen there and in the 一户一档
file; a date in the future refused beside the field), 本镇逾期跟进 within the township's scope, the reminders outbox,
and 我的待办's counts, which are the totals of the lists they link to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from loans.cob.service import close_of_business
from loans.reminders.outbox import drain_outbox
from tests.support.browser import DESKTOP, PHONE, answer_to, csrf_token, inspect_page
from tests.support.http import expect as answer
from tests.support.journeys import SMALL_LOAN, business_today, disbursed_loan, disbursement_for_first_due
from tests.support.world import LANES, OTHER_TOWNSHIP_VILLAGE, World

TERMS = {name: value for name, value in SMALL_LOAN.items() if name != "disbursed_on"}
PHONE_NUMBER = "13909350001"  # every borrower of disbursed_loan


async def fill_visit(page: Page, visited_on: str, jobs: str = "4") -> None:
    await page.get_by_label("走访日期").fill(visited_on)
    await page.get_by_label("经营状况").select_option("expanding")
    await page.get_by_label("贷款资金使用").select_option("true")
    await page.get_by_label("现带动就业人数（人）").fill(jobs)
    await page.get_by_label("风险等级").select_option("low")
    await page.get_by_label("走访情况（发现的问题、借款人意见、下一步措施）").fill(
        "新建羊圈一座，存栏增至80只"
    )


async def visits_of(client, world: World, loan_id: str, who: str) -> list:
    return answer(await client.get(f"/api/v1/loans/{loan_id}/follow-ups", headers=world[who]), 200)


async def test_a_visit_is_recorded_from_the_loan_and_shown_there_and_in_her_file(
    open_session, client, world: World
):
    loan = await disbursed_loan(client, world, contract_no="ZF-VISIT-1", name="走访甲", **SMALL_LOAN)
    township = await open_session("township")
    page = await township.open(f"/loans/{loan['loan_id']}")
    await expect(page.locator("section[aria-labelledby=visits]")).to_contain_text("暂无走访记录")
    await page.get_by_role("button", name="贷后走访登记").click()
    await expect(page.get_by_role("heading", name="贷后走访登记")).to_be_visible()

    # A date after today is refused by the service, beside the field, even where the browser would let it
    # through (its max= is the first guard only): nothing is written and nothing typed is lost.
    await page.locator("#f-visited_on").evaluate("field => field.removeAttribute('max')")
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    await fill_visit(page, tomorrow)
    assert await answer_to(page, page.get_by_role("button", name="保存走访记录").click) == 422
    await expect(page.locator("#err-visited_on")).to_have_text("走访日期须在放款日与今天之间")
    await expect(page.get_by_label("走访日期")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("现带动就业人数（人）")).to_have_value("4")
    assert await visits_of(client, world, loan["loan_id"], "township") == []

    await page.get_by_label("走访日期").fill("2026-03-01")
    await page.get_by_role("button", name="保存走访记录").click()
    await expect(page.get_by_role("heading", name="贷款 ZF-VISIT-1")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("已登记 2026-03-01 的贷后走访")
    visits = page.locator("section[aria-labelledby=visits] tbody tr")
    await expect(visits).to_have_count(1)
    await expect(visits.first).to_contain_text("2026-03-01")
    await expect(visits.first).to_contain_text("扩大经营")
    await expect(visits.first).to_contain_text("新建羊圈一座")
    # The next visit is due 90 days after this one.
    await expect(page.locator(".details")).to_contain_text("最近 2026-03-01，应于 2026-05-30 前走访")
    (recorded,) = await visits_of(client, world, loan["loan_id"], "township")
    assert (recorded["visited_on"], recorded["jobs_now"], recorded["business_status"]) == (
        "2026-03-01",
        4,
        "expanding",
    )

    # 一户一档: her file lists the visits of her loans, each with its loan, and offers the form for each loan.
    await page.get_by_role("link", name="走访甲").first.click()
    await expect(page.get_by_role("heading", name="走访甲 的档案")).to_be_visible()
    in_file = page.locator("section[aria-labelledby=visits] tbody tr")
    await expect(in_file).to_have_count(1)
    await expect(in_file.first).to_contain_text("2026-03-01")
    await expect(in_file.first.get_by_role("link", name="ZF-VISIT-1")).to_be_visible()
    await page.locator("section[aria-labelledby=h-loans]").get_by_role("link", name="走访登记").click()
    await expect(page.get_by_role("heading", name="贷后走访登记")).to_be_visible()
    await expect(page.locator("section[aria-labelledby=visits] tbody tr")).to_have_count(1)
    assert township.console_errors() == []


@dataclass(frozen=True)
class FollowUps:
    overdue: str  # ours: 90 days past due at the last closed date, claimable by the fund, never visited
    current: str  # ours: first installment due in 6 days
    elsewhere: str  # another township's: 30 days past due


async def follow_up_data(client, world: World, engine) -> FollowUps:
    """Three loans, two closed dates with their reminders: on the first, ours falling due in 7 days (refused by
    the SMS sender); on the second (the last closed date), ours 90 days and the other township's 30 days overdue
    (queued)."""
    last_closed = business_today() - timedelta(days=1)
    overdue = await disbursed_loan(
        client,
        world,
        contract_no="GJ-OVERDUE",
        name="逾期甲",
        disbursed_on=disbursement_for_first_due(last_closed - timedelta(days=90)),
        **TERMS,
    )
    current = await disbursed_loan(
        client,
        world,
        contract_no="GJ-CURRENT",
        name="按期乙",
        disbursed_on=disbursement_for_first_due(last_closed + timedelta(days=6)),
        **TERMS,
    )
    elsewhere = await disbursed_loan(
        client,
        world,
        contract_no="GJ-ELSEWHERE",
        name="外镇丙",
        village_code=OTHER_TOWNSHIP_VILLAGE,
        who="township_other",
        business_licence_no="92620302MA00000001",
        disbursed_on=disbursement_for_first_due(last_closed - timedelta(days=30)),
        **TERMS,
    )
    await close_of_business(engine, last_closed - timedelta(days=1), last_closed, lanes=LANES)

    class RefusingSender:
        channel = "sms"

        async def send(self, reminder) -> None:
            raise ConnectionError("SMS gateway unreachable")

    async with AsyncSession(engine, expire_on_commit=False) as session:
        assert (await drain_outbox(session, RefusingSender())).failed == 1
    await close_of_business(engine, last_closed, business_today(), lanes=LANES)
    return FollowUps(overdue["loan_id"], current["loan_id"], elsewhere["loan_id"])


async def listed_total(page: Page) -> int:
    found = re.search(r"共 (\d+) 条", await page.locator(".pagination").inner_text())
    assert found, "no total on the list"
    return int(found[1])


async def test_the_township_follows_up_only_its_own_overdue_loans(open_session, client, world: World, engine):
    loans = await follow_up_data(client, world, engine)
    view = answer(await client.get(f"/api/v1/loans/{loans.overdue}", headers=world["township"]), 200)
    # 100 % subsidised: the arrears are the principal past due and its penalty interest
    arrears = Decimal(view["overdue_principal"]) + Decimal(view["outstanding_penalty"])
    assert Decimal(view["overdue_principal"]) > 0 and Decimal(view["outstanding_penalty"]) > 0
    assert view["overdue_amount"] == f"{arrears:.2f}"
    township = await open_session("township")
    page = township.page

    # 本镇逾期跟进: our overdue loan with its arrears and its visit overdue; never the other township's.
    await page.get_by_role("link", name="本镇逾期跟进").first.click()
    await expect(page.get_by_role("heading", name="本镇逾期跟进")).to_be_visible()
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("GJ-OVERDUE")
    await expect(rows.first).to_contain_text("逾期甲")
    await expect(rows.first).to_contain_text(PHONE_NUMBER)  # her own township's staff see the full phone
    await expect(rows.first).to_contain_text(view["overdue_amount"])
    await expect(rows.first).to_contain_text("未走访")
    await expect(rows.first).to_contain_text("已超期")
    await expect(page.get_by_text("GJ-ELSEWHERE")).to_have_count(0)
    page = await township.open("/follow-ups?show=overdue&q=GJ-ELSEWHERE")
    await expect(page.get_by_text("没有符合条件的贷款")).to_be_visible()
    page = await township.open("/follow-ups?show=overdue&q=逾期甲")
    await expect(page.locator("tbody tr")).to_have_count(1)

    # 导出: the rows of the list, as text, under a Chinese name.
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="导出").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("本镇逾期跟进-")
    sheet = pl.read_excel(await download.path())
    assert sheet["合同编号"].to_list() == ["GJ-OVERDUE"] and sheet["手机号"].to_list() == [PHONE_NUMBER]
    assert sheet["逾期天数"].to_list() == ["90"]

    # The other township's loan is not found for her, nor is a visit she posts to it written.
    page = await township.open(f"/loans/{loans.elsewhere}/follow-ups/new")
    assert township.status == 404
    page = await township.open(f"/loans/{loans.overdue}/follow-ups/new")
    token = await csrf_token(page)
    visit = {
        "_csrf_token": token,
        "visited_on": business_today().isoformat(),
        "business_status": "struggling",
        "fund_use_as_agreed": "true",
        "jobs_now": "1",
        "risk_level": "high",
    }
    refused = await page.request.post(f"{township.base}/loans/{loans.elsewhere}/follow-ups/new", form=visit)
    assert refused.status == 404
    assert await visits_of(client, world, loans.elsewhere, "township_other") == []

    # A bank liaison may read the loan but not record a visit: no form offered, and a post by hand refused.
    bank = await open_session("bank")
    page = await bank.open(f"/loans/{loans.overdue}/follow-ups/new")
    await expect(page.get_by_role("button", name="保存走访记录")).to_have_count(0)
    page = await bank.open(f"/loans/{loans.overdue}")
    await expect(page.get_by_role("button", name="贷后走访登记")).to_have_count(0)
    refused = await page.request.post(
        f"{bank.base}/loans/{loans.overdue}/follow-ups/new",
        form={**visit, "_csrf_token": await csrf_token(page)},
    )
    assert refused.status == 403
    assert "无权执行此操作" in await refused.text()
    assert await visits_of(client, world, loans.overdue, "township") == []

    # 我的待办: each count is the total of the list it opens; what the data make is what they say.
    expected = {
        "本镇逾期跟进": 1,
        "应走访贷款（超过90天未走访）": 1,  # the overdue loan: the other was disbursed within 90 days
        "待发送提醒": 1,
        "发送失败的提醒": 1,
    }
    for text, count in expected.items():
        page = await township.open("/todo")
        card = page.locator(".card", has_text=text)
        await expect(card.locator(".count")).to_have_text(str(count))
        await card.click()
        await page.wait_for_load_state()
        assert await listed_total(page) == count, text
    county = await open_session("county")
    page = await county.open("/todo")
    claimable = page.locator(".card", has_text="可代偿贷款")
    await expect(claimable.locator(".count")).to_have_text("1")
    await claimable.click()
    await expect(page.get_by_role("heading", name="可代偿贷款")).to_be_visible()
    assert await listed_total(page) == 1
    await expect(page.locator("tbody tr").first).to_contain_text("GJ-OVERDUE")
    # claimable from the day it was 90 days past due, the fund's term
    await expect(page.locator("tbody tr").first).to_contain_text(view["claimable_since"])
    assert view["claimable_since"] == (business_today() - timedelta(days=1)).isoformat()


async def test_the_reminders_list_filters_by_date_and_state_and_masks_phones(
    open_session, client, world: World, engine
):
    await follow_up_data(client, world, engine)
    last_closed = business_today() - timedelta(days=1)
    township = await open_session("township")
    page = await township.open("/reminders")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)  # the other township's is not hers
    await expect(page.get_by_text("GJ-ELSEWHERE")).to_have_count(0)
    await expect(rows.nth(0)).to_contain_text("逾期90天")
    await expect(rows.nth(0)).to_contain_text("待发送")
    await expect(rows.nth(0)).to_contain_text(PHONE_NUMBER)
    await expect(rows.nth(1)).to_contain_text("7天后到期")
    await expect(rows.nth(1)).to_contain_text("发送失败")
    await expect(rows.nth(1)).to_contain_text("已尝试 1 次")

    await page.get_by_label("业务日期自").fill(last_closed.isoformat())
    await page.get_by_label("业务日期至").fill(last_closed.isoformat())
    await page.get_by_role("button", name="搜索").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("GJ-OVERDUE")
    await page.get_by_role("button", name="重置").click()
    await page.get_by_label("发送状态").select_option("failed")
    await page.get_by_role("button", name="搜索").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("GJ-CURRENT")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="导出").click()
    sheet = pl.read_excel(await (await download_info.value).path())
    assert sheet.select("合同编号", "手机号", "状态").rows() == [("GJ-CURRENT", PHONE_NUMBER, "发送失败")]

    # The API's list filters by the same states; a state the list does not know is refused, naming the filter.
    failed = answer(await client.get("/api/v1/reminders?state=failed", headers=world["township"]), 200)
    assert [(r["contract_no"], r["state"], r["send_attempts"]) for r in failed["items"]] == [
        ("GJ-CURRENT", "failed", 1)
    ]
    page = await township.open("/reminders?state=nope")
    assert township.status == 422
    await expect(page.get_by_role("alert")).to_contain_text("state：不是可选的值")
    page = await township.open("/reminders")

    # The county reads every township's reminders (the other township's as many as its staff read) with the
    # phones masked.
    theirs = answer(await client.get("/api/v1/reminders", headers=world["township_other"]), 200)
    assert theirs["total"] >= 1
    county = await open_session("county")
    page = await county.open("/reminders")
    await expect(page.locator("tbody tr")).to_have_count(2 + theirs["total"])
    await expect(page.get_by_text("139****0001").first).to_be_visible()
    await expect(page.get_by_text(PHONE_NUMBER)).to_have_count(0)


NEW_PAGES = {
    "township": [
        ("followups-overdue", "/follow-ups?show=overdue"),
        ("followups-visit-due", "/follow-ups?show=visit_due"),
        ("visit-new", "/loans/{overdue}/follow-ups/new"),
        ("loan-with-visits", "/loans/{overdue}"),
        ("reminders", "/reminders"),
    ],
    "county": [("followups-claimable", "/follow-ups?show=claimable"), ("todo-county-claimable", "/todo")],
}


async def test_the_follow_up_pages_are_accessible_fit_a_phone_and_are_kept_as_screenshots(
    open_session, client, world: World, engine, screens
):
    loans = await follow_up_data(client, world, engine)
    ids = {"overdue": loans.overdue}
    failures = []
    for viewport in (DESKTOP, PHONE):
        for user, pages in NEW_PAGES.items():
            session = await open_session(user, viewport, for_axe=True)
            for name, path in pages:
                page = await session.open(path.format(**ids))
                assert session.status == 200, (name, session.status)
                await expect(page.locator("tbody tr").first).to_be_visible()
                failures += await inspect_page(page, screens, name)
            assert session.console_errors() == [], session.console_errors()
    # The refused visit too, with its message beside the field.
    session = await open_session("township", PHONE, for_axe=True)
    page = await session.open(f"/loans/{loans.overdue}/follow-ups/new")
    await page.locator("#f-visited_on").evaluate("field => field.removeAttribute('max')")
    await fill_visit(page, date(2099, 1, 1).isoformat())
    await page.get_by_role("button", name="保存走访记录").click()
    await expect(page.locator("#err-visited_on")).to_be_visible()
    failures += await inspect_page(page, screens, "visit-refused")
    assert failures == [], failures
