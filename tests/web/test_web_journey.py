"""One loan walked through every role's pages in the browser, from registration to settlement: the township
registers her (the ID checked as it is typed) and her training and creates the application, the village head
certifies on her phone, the township submits, the county recommends, the bank approves and disburses (a
disbursement dated before the decision refused beside its field, nothing written), one installment is paid
through 还款登记's due list and the rest by a bank file, and her 一户一档 file shows the loan settled.

Every step carries its paper date, months back, so that every installment is already due today: no day has to
pass in the test, and no close of business is run (nothing is overdue before it is paid, on its due date)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import polars as pl
from playwright.async_api import Page, expect

from tests.support.browser import PHONE, answer_to, fill_application, screenshot, sideways_overflow, type_id
from tests.support.ids import female_id
from tests.support.journeys import business_today, deposit_into
from tests.support.world import VILLAGE, World

CONTRACT = "JC-JOURNEY-0001"


def months_after(day: date, months: int) -> date:
    """The same day of the month ``months`` later (the journey's days are at most the 28th: no clamping)."""
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def status_of(page: Page):
    return page.locator(".details .status").first


async def test_one_loan_from_registration_to_settlement(
    open_session, client, world: World, run_jobs, screens
):
    await deposit_into(client, world, world.fund_id, "1000000.00")
    today = business_today()
    disbursed_on = today - timedelta(days=120)
    disbursed_on = disbursed_on.replace(day=min(disbursed_on.day, 28))
    certified_on, submitted_on, reviewed_on, decided_on = (
        disbursed_on - timedelta(days=days) for days in (10, 8, 5, 3)
    )
    due = [months_after(disbursed_on, k) for k in (1, 2, 3)]
    assert due[-1] < today

    # 乡镇妇联: registration, the ID checked as it is typed.
    township = await open_session("township")
    page = township.page
    await page.get_by_role("link", name="申请人登记").click()
    national_id = female_id(date(1986, 4, 12))
    await type_id(page, national_id)
    await expect(page.locator("#id-check")).to_contain_text("校验通过：出生日期 1986-04-12，女")
    await page.get_by_label("姓名").fill("马秀兰")
    await page.get_by_label("手机号").fill("13909357788")
    await page.get_by_label("所在村（居）").select_option(VILLAGE)
    await page.get_by_label("返乡创业妇女").check()
    await page.get_by_role("button", name="登记").click()
    await expect(page.get_by_role("heading", name="马秀兰 的档案")).to_be_visible()
    file_path = page.url.removeprefix(township.base)

    # Her SYB training, on her file.
    await page.get_by_text("登记培训").click()
    await page.get_by_label("课程").select_option("syb")
    await page.get_by_label("培训班名称").fill("巾帼创业SYB培训班")
    await page.get_by_label("培训机构").fill("金川区就业服务中心")
    await page.get_by_label("开班日期").fill((certified_on - timedelta(days=30)).isoformat())
    await page.get_by_label("结业日期").fill((certified_on - timedelta(days=20)).isoformat())
    await page.get_by_label("合格证书编号").fill("SYB-JC-0420")
    await page.get_by_role("button", name="保存培训记录").click()
    await expect(page.locator("section[aria-labelledby=trainings] tbody tr")).to_contain_text("SYB-JC-0420")

    # The application: 30,000 yuan over 3 months, equal principal (the subsidy pays all the interest).
    await page.get_by_role("button", name="为她登记贷款申请").click()
    await fill_application(
        page, world.fund_id, ("30000", "3", "equal_principal"), ("handicraft", "刺绣手工作坊", "45000", "4")
    )
    await page.get_by_role("button", name="保存为草稿").click()
    await expect(status_of(page)).to_have_text("草稿")
    application_path = page.url.removeprefix(township.base)

    # 村妇代会主任, on her phone: the certificate, dated on paper.
    village = await open_session("village", PHONE)
    phone = village.page
    await phone.get_by_role("link", name="村证明待办").click()
    await phone.get_by_role("link", name="出具证明").first.click()
    await expect(phone.get_by_role("heading", name="出具村级证明")).to_be_visible()
    assert phone.url.startswith(village.base + application_path)
    await phone.get_by_label("证明编号").fill("龙景村证〔2026〕31号")
    await phone.get_by_label("出具单位（村/居妇代会）").fill("龙景村妇代会")
    await phone.get_by_label("出具日期").fill(certified_on.isoformat())
    await phone.get_by_label("申请人户籍或常住在本村（居）").check()
    await phone.get_by_label("申请人诚实守信、无不良记录").check()
    await phone.get_by_label("创业项目真实存在").check()
    assert await sideways_overflow(phone) <= 0
    await phone.get_by_role("button", name="出具证明").click()
    await expect(status_of(phone)).to_have_text("村级已出证明")
    assert await sideways_overflow(phone) <= 0

    # The township submits it to the county.
    await township.open(application_path)
    await page.get_by_label("报送日期").fill(submitted_on.isoformat())
    await page.get_by_role("button", name="报送县妇联").click()
    await expect(status_of(page)).to_have_text("乡镇已报送")

    # 县妇联: the review queue, 推荐 with the opinion.
    county = await open_session("county")
    desk = county.page
    await desk.get_by_role("link", name="申请复核").click()
    await desk.get_by_role("row", name="马秀兰").get_by_role("link", name="查看").click()
    await desk.get_by_label("推荐", exact=True).check()
    await desk.get_by_label("意见").fill("材料齐全，项目可行，同意推荐")
    await desk.get_by_label("复核日期").fill(reviewed_on.isoformat())
    await desk.get_by_role("button", name="提交复核意见").click()
    await expect(status_of(desk)).to_have_text("县妇联已推荐")
    await expect(desk.get_by_text("材料齐全，项目可行，同意推荐")).to_be_visible()

    # 合作银行: approval, with the rate and the decision's date.
    bank = await open_session("bank")
    office = bank.page
    await office.get_by_role("link", name="待审批").click()
    await office.get_by_role("row", name="马秀兰").get_by_role("link", name="查看").click()
    await office.get_by_label("审批通过").check()
    await expect(office.get_by_label("审批金额（元）")).to_have_value("30000.00")
    await office.get_by_label("年利率（小数，如 0.0435 即 4.35%）").fill("0.0435")
    await office.get_by_label("审批日期").fill(decided_on.isoformat())
    await office.get_by_role("button", name="提交审批结果").click()
    await expect(status_of(office)).to_have_text("银行已审批")

    # A disbursement dated before the decision is refused beside its date, and nothing is written.
    await office.get_by_label("借款合同编号").fill(CONTRACT)
    await office.get_by_label("放款日期").fill((decided_on - timedelta(days=1)).isoformat())
    await office.get_by_label("放款交易流水号").fill("FK-JOURNEY-1")
    assert await answer_to(office, office.get_by_role("button", name="登记放款").click) == 422
    await expect(office.locator("#err-disbursed_on")).to_have_text(
        f"日期 {decided_on - timedelta(days=1)} 早于银行审批日期 {decided_on}"
    )
    await expect(office.get_by_label("借款合同编号")).to_have_value(CONTRACT)
    await bank.open(application_path)
    await expect(status_of(office)).to_have_text("银行已审批")
    await expect(office.get_by_role("button", name="查看贷款与还款计划")).to_have_count(0)
    await bank.open(f"/loans?q={CONTRACT}")
    await expect(office.get_by_text("没有符合条件的贷款")).to_be_visible()

    # The disbursement on its paper date: the loan and its frozen schedule.
    await bank.open(application_path)
    await office.get_by_label("借款合同编号").fill(CONTRACT)
    await office.get_by_label("放款日期").fill(disbursed_on.isoformat())
    await office.get_by_label("放款交易流水号").fill("FK-JOURNEY-1")
    await office.get_by_role("button", name="登记放款").click()
    await expect(status_of(office)).to_have_text("已放款")
    history = office.locator("section[aria-labelledby=h-history] tbody tr")
    await expect(history).to_have_count(6)
    for row, day in enumerate((certified_on, submitted_on, reviewed_on, decided_on, disbursed_on), start=1):
        await expect(history.nth(row).locator("td").first).to_have_text(day.isoformat())

    # 还款登记: the due list for today holds her three installments; the first is paid from it.
    await office.get_by_role("link", name="还款登记").click()
    due_rows = office.get_by_role("row", name=CONTRACT)
    await expect(due_rows).to_have_count(3)
    for row, day in enumerate(due):
        await expect(due_rows.nth(row)).to_contain_text(day.isoformat())
        await expect(due_rows.nth(row)).to_contain_text("10000.00")
    await due_rows.first.get_by_role("link", name=CONTRACT).click()
    await expect(office.get_by_role("heading", name=f"贷款 {CONTRACT}")).to_be_visible()
    await office.get_by_label("还款金额（元）").fill("10000.00")
    await office.get_by_label("还款日期").fill(due[0].isoformat())
    await office.get_by_label("银行交易流水号").fill("HK-JOURNEY-1")
    await office.get_by_role("button", name="登记还款").click()
    await expect(office.get_by_role("status").first).to_contain_text("还款已入账（流水号 HK-JOURNEY-1）")
    await expect(office.locator(".details")).to_contain_text("未还本金20000.00 元")
    await office.get_by_role("link", name="还款登记").click()
    await expect(office.get_by_role("row", name=CONTRACT)).to_have_count(2)

    # The other two by the bank's file, written under the template's own headers.
    await office.get_by_role("link", name="银行还款文件").click()
    async with office.expect_download() as template:
        await office.get_by_role("link", name="下载模板").click()
    headers = pl.read_excel(await (await template.value).path()).columns
    assert len(headers) == 4
    upload = io.StringIO()
    pl.DataFrame(
        [
            [CONTRACT, "WJ-JOURNEY-2", due[1].isoformat(), "10000.00"],
            [CONTRACT, "WJ-JOURNEY-3", due[2].isoformat(), "10000.00"],
        ],
        schema=headers,
        orient="row",
    ).write_csv(upload)
    await office.get_by_label("还款文件（CSV 或 XLSX）").set_input_files(
        files=[{"name": "journey.csv", "mimeType": "text/csv", "buffer": upload.getvalue().encode()}]
    )
    await office.get_by_role("button", name="上传还款文件").click()
    await expect(office.get_by_role("heading", name="还款文件 journey.csv")).to_be_visible()
    assert await run_jobs() >= 1
    outcomes = office.locator("tbody tr")
    await expect(outcomes).to_have_count(2, timeout=15_000)
    await expect(outcomes.nth(0)).to_contain_text("已入账")
    await expect(outcomes.nth(1)).to_contain_text("已入账")
    await expect(office.locator("#progress")).to_contain_text("已完成")

    # Settled: zero balance, nothing left on the due list.
    await office.get_by_role("link", name="还款登记").click()
    await expect(office.get_by_role("row", name=CONTRACT)).to_have_count(0)
    await bank.open(f"/loans?q={CONTRACT}")
    await office.get_by_role("link", name=CONTRACT).click()
    await expect(office.locator(".details .status")).to_have_text("已结清")
    await expect(office.locator(".details")).to_contain_text("未还本金0.00 元")

    # Her file at the township: the loan settled, its three repayments, the last one settling it.
    await township.open(file_path)
    loan_row = page.locator("section[aria-labelledby=h-loans] tbody tr")
    await expect(loan_row).to_have_count(1)
    await expect(loan_row).to_contain_text(CONTRACT)
    await expect(loan_row.locator("td").nth(4)).to_have_text("0.00")
    await expect(loan_row.locator("td").last).to_have_text("已结清")
    paid = page.locator("section[aria-labelledby=h-repayments] tbody tr")
    await expect(paid).to_have_count(3)
    for row, (day, ref, source, state) in enumerate(
        [
            (due[0], "HK-JOURNEY-1", "手工登记", "已入账"),
            (due[1], "WJ-JOURNEY-2", "银行文件", "已入账"),
            (due[2], "WJ-JOURNEY-3", "银行文件", "结清"),
        ]
    ):
        cells = paid.nth(row).locator("td")
        await expect(cells).to_have_text([CONTRACT, day.isoformat(), ref, "10000.00", source, state])
    await expect(page.locator("section[aria-labelledby=h-applications] tbody tr .status")).to_have_text(
        "已放款"
    )
    await screenshot(page, screens, "journey-applicant-file-settled")
    for session in (township, village, county, bank):
        assert session.console_errors() == [], session.console_errors()
