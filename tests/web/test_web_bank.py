"""The bank's day in a real browser: the approval queue and decision, disbursement, the loan's schedule and payoff,
还款登记 (idempotent on the reference, refused when it overpays), 冲正, and a bank file uploaded, posted by the
worker and reported row by row."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.support.browser import answer_to
from tests.support.journeys import SMALL_LOAN, application_in, deposit_into, disbursed_loan
from tests.support.world import World


async def test_bank_approves_disburses_and_records_repayments(open_session, client, world: World):
    await deposit_into(client, world, world.fund_id, "1000000.00")
    application = await application_in(client, world, "county_recommended", world.fund_id)
    bank = await open_session("bank")
    page = bank.page
    queue = page.get_by_role("link", name="县妇联已推荐：待银行审批")
    await expect(queue).to_contain_text("1")
    await queue.click()
    await page.get_by_role("link", name="查看").first.click()
    assert page.url.endswith(application["id"])

    # An approval without its rate is refused; the terms typed stay.
    await page.get_by_label("审批通过").check()
    assert await answer_to(page, page.get_by_role("button", name="提交审批结果").click) == 422
    await expect(page.get_by_role("alert")).to_contain_text("审批通过须填写")
    await page.get_by_label("审批通过").check()
    await page.get_by_label("年利率（小数，如 0.0435 即 4.35%）").fill("0.0435")
    await page.get_by_role("button", name="提交审批结果").click()
    await expect(page.locator(".details .status").first).to_have_text("银行已审批")

    await page.get_by_label("借款合同编号").fill("JC-WEB-0001")
    await page.get_by_label("放款交易流水号").fill("FK-WEB-0001")
    await page.get_by_role("button", name="登记放款").click()
    await expect(page.locator(".details .status").first).to_have_text("已放款")
    await page.get_by_role("button", name="查看贷款与还款计划").click()
    await expect(page.get_by_role("heading", name="贷款 JC-WEB-0001")).to_be_visible()
    schedule = page.locator("section[aria-labelledby=h-schedule] tbody tr")
    await expect(schedule.first).to_contain_text("待还")
    assert await schedule.count() >= 2

    # The payoff for today: principal and interest accrued to the day.
    await page.get_by_role("button", name="计算").click()
    await expect(page.get_by_role("status")).to_contain_text("结清应还 50000.00 元")

    # 还款登记: posted once; the same reference again is not posted twice; more than the payoff is refused.
    await page.get_by_label("还款金额（元）").fill("1000.00")
    await page.get_by_label("银行交易流水号").fill("HK-WEB-1")
    await page.get_by_role("button", name="登记还款").click()
    await expect(page.get_by_role("status").first).to_contain_text("还款已入账（流水号 HK-WEB-1）")
    await page.get_by_label("还款金额（元）").fill("1000.00")
    await page.get_by_label("银行交易流水号").fill("HK-WEB-1")
    await page.get_by_role("button", name="登记还款").click()
    await expect(page.get_by_role("status").first).to_contain_text("已登记过，未重复入账")
    repayments = page.locator("section[aria-labelledby=repayments] tbody tr")
    await expect(repayments).to_have_count(1)
    await page.get_by_label("还款金额（元）").fill("999999.00")
    await page.get_by_label("银行交易流水号").fill("HK-WEB-2")
    assert await answer_to(page, page.get_by_role("button", name="登记还款").click) == 422
    await expect(page.locator("#err-amount")).to_contain_text("超过截至")
    await expect(page.get_by_label("银行交易流水号")).to_have_value("HK-WEB-2")

    # 冲正 with a reason: the repayment stays listed as reversed and the principal is owed again.
    await repayments.first.get_by_text("冲正", exact=True).click()
    await repayments.first.get_by_label("冲正原因").fill("金额录入错误")
    await repayments.first.get_by_role("button", name="确认冲正").click()
    await expect(repayments.first).to_contain_text("已冲正")
    await expect(page.locator(".details")).to_contain_text("未还本金50000.00 元")


async def test_a_bank_file_is_posted_and_reported_row_by_row(open_session, client, world: World, run_jobs):
    await disbursed_loan(client, world, contract_no="JC-WEB-FILE", **SMALL_LOAN)
    bank = await open_session("bank")
    page = await bank.open("/imports")
    async with page.expect_download() as template:
        await page.get_by_role("link", name="下载模板").click()
    assert (await template.value).suggested_filename.startswith("银行还款文件模板")

    content = (
        "合同编号,交易流水号,还款日期,还款金额\n"
        "JC-WEB-FILE,WF-1,2026-02-15,1000.00\n"
        "JC-NOPE,WF-2,2026-02-15,10.00\n"
    )
    await page.get_by_label("还款文件（CSV 或 XLSX）").set_input_files(
        files=[{"name": "bank.csv", "mimeType": "text/csv", "buffer": content.encode()}]
    )
    await page.get_by_role("button", name="上传还款文件").click()
    await expect(page.get_by_role("heading", name="还款文件 bank.csv")).to_be_visible()
    await expect(page.locator("#progress")).to_contain_text("共 2 行")

    # The worker posts it; the page, polling, reloads with each row's outcome.
    assert await run_jobs() >= 1
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2, timeout=15_000)
    await expect(rows.nth(0)).to_contain_text("已入账")
    await expect(rows.nth(1)).to_contain_text("拒绝")
    await expect(rows.nth(1)).to_contain_text("合同")
    await expect(page.locator("#progress")).to_contain_text("已完成")
    page = await bank.open("/imports")
    await expect(page.locator("tbody tr").first).to_contain_text("bank.csv")


async def test_the_bad_file_is_refused_beside_the_file_field(open_session, world: World):
    bank = await open_session("bank")
    page = await bank.open("/imports")
    await page.get_by_label("还款文件（CSV 或 XLSX）").set_input_files(
        files=[{"name": "bank.csv", "mimeType": "text/csv", "buffer": "合同编号,交易流水号\n".encode()}]
    )
    assert await answer_to(page, page.get_by_role("button", name="上传还款文件").click) == 422
    await expect(page.locator("#err-file")).to_be_visible()


async def test_a_loan_book_is_imported_from_its_own_template(open_session, world: World, run_jobs):
    bank = await open_session("bank")
    page = await bank.open("/imports")
    async with page.expect_download() as template:
        await page.get_by_role("link", name="下载贷款台账模板").click()
    download = await template.value
    assert download.suggested_filename == "贷款台账导入模板.xlsx"
    await page.get_by_label("贷款台账文件（CSV 或 XLSX）").set_input_files(await download.path())
    await page.get_by_role("button", name="上传贷款台账").click()
    await expect(page.get_by_role("heading", name=re.compile("^贷款台账 "))).to_be_visible()
    assert await run_jobs() >= 1
    rows = page.locator("tbody tr")
    await expect(rows.first).to_contain_text("已创建", timeout=15_000)
    await expect(page.locator("#progress")).to_contain_text("已建立贷款 1")
