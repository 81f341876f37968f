"""Every main page at a desktop's and a phone's width: axe-core finds no WCAG 2.1 AA violation, nothing scrolls
sideways on the phone, and a screenshot is kept for a person to look at (JINGUO_SCREENS, /tmp/jinguo-screens)."""

from __future__ import annotations

import polars as pl
from playwright.async_api import expect

from tests.support.browser import DESKTOP, PHONE, inspect_page
from tests.support.http import API
from tests.support.http import expect as answer
from tests.support.journeys import application_in, create_application, deposit_into, disbursed_loan, register
from tests.support.world import World


async def page_data(client, world: World) -> dict[str, str]:
    await deposit_into(client, world, world.fund_id, "1000000.00")
    applicant = await register(client, world, name="档案申请人")
    training = {
        "course": "syb",
        "title": "巾帼创业SYB培训班",
        "provider": "金川区就业服务中心",
        "started_on": "2026-03-01",
        "finished_on": "2026-03-10",
        "certificate_no": "SYB-2026-0001",
    }
    answer(
        await client.post(
            f"{API}/applicants/{applicant['id']}/trainings", json=training, headers=world["township"]
        ),
        201,
    )
    draft = await create_application(client, world, world.fund_id, applicant=applicant)
    submitted = await application_in(client, world, "township_submitted", world.fund_id)
    recommended = await application_in(client, world, "county_recommended", world.fund_id)
    loan = await disbursed_loan(client, world, fund_id=world.fund_id)
    return {
        "applicant": applicant["id"],
        "draft": draft["id"],
        "submitted": submitted["id"],
        "recommended": recommended["id"],
        "loan": loan["loan_id"],
    }


PAGES = {
    "township": [
        ("todo-township", "/todo"),
        ("applicants", "/applicants"),
        ("applicant-new", "/applicants/new"),
        ("applicant-file", "/applicants/{applicant}"),
        ("applications", "/applications"),
        ("application-new", "/applications/new?applicant_id={applicant}"),
        ("application-draft", "/applications/{draft}"),
        ("password", "/password"),
    ],
    "village": [
        ("todo-village", "/todo"),
        ("village-certificate", "/applications/{draft}/village-certification"),
    ],
    "county": [
        ("todo-county", "/todo"),
        ("application-review", "/applications/{submitted}"),
        ("overdue-county", "/loans?status=overdue"),
    ],
    "bank": [
        ("todo-bank", "/todo"),
        ("application-decision", "/applications/{recommended}"),
        ("loans", "/loans"),
        ("loan", "/loans/{loan}?payoff_on=2026-12-31"),
        ("due", "/repayments/due"),
        ("imports", "/imports"),
    ],
}


async def test_main_pages_are_accessible_fit_a_phone_and_are_kept_as_screenshots(
    open_session, client, world: World, screens
):
    ids = await page_data(client, world)
    failures = []
    for viewport in (DESKTOP, PHONE):
        anonymous = await open_session(viewport=viewport, for_axe=True)
        page = await anonymous.open("/")
        failures += await inspect_page(page, screens, "login")
        for user, pages in PAGES.items():
            session = await open_session(user, viewport, for_axe=True)
            for name, path in pages:
                page = await session.open(path.format(**ids))
                assert session.status == 200, (name, session.status)
                await expect(page.locator("h1")).to_be_visible()
                failures += await inspect_page(page, screens, name)
            assert session.console_errors() == [], session.console_errors()
    assert failures == [], failures


async def test_lists_search_paginate_and_export_to_xlsx(open_session, client, world: World):
    people = [await register(client, world, name=f"列表申请人{i:02d}") for i in range(23)]
    township = await open_session("township")
    page = await township.open("/applicants")
    await expect(page.get_by_text("共 23 条，第 1 / 2 页")).to_be_visible()
    await expect(page.locator("tbody tr")).to_have_count(20)
    await page.get_by_role("link", name="下一页").click()
    await expect(page.locator("tbody tr")).to_have_count(3)

    # Search by the last digits of an ID number, then reset.
    await page.get_by_label("姓名 / 身份证号（或后几位）/ 手机号").fill(people[5]["national_id"][-6:])
    await page.get_by_role("button", name="搜索").click()
    await expect(page.get_by_role("link", name="列表申请人05").first).to_be_visible()
    await page.get_by_role("button", name="重置").click()
    await expect(page.get_by_text("共 23 条")).to_be_visible()

    # 导出: every matching row, ID numbers as text, a Chinese file name.
    await page.get_by_label("姓名 / 身份证号（或后几位）/ 手机号").fill("列表申请人1")
    await page.get_by_role("button", name="搜索").click()
    await expect(page.get_by_text("共 10 条")).to_be_visible()
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="导出").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("借款人档案-") and download.suggested_filename.endswith(
        ".xlsx"
    )
    sheet = pl.read_excel(await download.path())
    assert sheet.columns[:2] == ["姓名", "身份证号"]
    assert sorted(sheet["姓名"].to_list()) == [f"列表申请人{i:02d}" for i in range(10, 20)]
    assert sheet["身份证号"].dtype == pl.String
    assert set(sheet["身份证号"].to_list()) == {p["national_id"] for p in people[10:20]}


async def test_a_bad_query_parameter_answers_a_chinese_page_and_the_api_json(
    open_session, client, world: World, screens
):
    failures = []
    for viewport in (DESKTOP, PHONE):
        bank = await open_session("bank", viewport, for_axe=True)
        page = await bank.open("/loans?page=abc")
        assert bank.status == 422
        await expect(page.get_by_role("alert")).to_contain_text("page：")
        await expect(page.get_by_role("navigation", name="主菜单")).to_be_visible()
        failures += await inspect_page(page, screens, "error-422")
        await page.get_by_role("link", name="重新打开本页（清除查询条件）").click()
        await expect(page.locator("h1")).to_have_text("贷款台账")
        assert page.url == bank.base + "/loans"
    assert failures == [], failures
    page = await bank.open("/follow-ups?show=nope")
    assert bank.status == 422
    await expect(page.get_by_role("alert")).to_contain_text("show：")

    # The API answers the same mistake in JSON, as before.
    refused = await client.get(f"{API}/loans?limit=abc", headers=world["bank"])
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/json")
    assert [e["field"] for e in refused.json()["errors"]] == ["limit"]
    # A parameter whose query name is not the handler's own is named as it was sent.
    refused = await client.get(f"{API}/reminders?state=nope", headers=world["township"])
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["state"]
