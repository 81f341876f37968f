"""县级风险报告 in a real browser: opened from the menu, another report date, the workbook, printed to PDF, built in
the background, accessible and fitting a phone; and scoped as the API scopes it."""

from __future__ import annotations

import re
from decimal import Decimal

import polars as pl
from playwright.async_api import expect

from reports.render.labels import column_label, table_label
from tests.support.browser import DESKTOP, PHONE, axe_violations, csrf_token, screenshot, sideways_overflow
from tests.support.http import expect as answer
from tests.support.journeys import portfolio
from tests.support.world import COUNTY, OTHER_COUNTY, World

AS_OF = "2026-05-31"
TITLE = "金川区妇联创业担保贷款风险报告"


async def risk_json(client, world: World, user: str, query: str = "") -> dict:
    return answer(
        await client.get(f"/api/v1/reports/county-risk?as_of={AS_OF}{query}", headers=world[user]), 200
    )


def pdf_title(pdf: bytes) -> str:
    """The document title Chromium writes into the PDF's Info dictionary (UTF-16BE, hex or literal)."""
    found = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]+)>", pdf)
    if found:
        return bytes.fromhex(found.group(1).decode()).decode("utf-16-be")
    literal = re.search(rb"/Title\s*\((.*?)\)", pdf, flags=re.S)
    assert literal, "the PDF has no title"
    return literal.group(1).decode("latin-1")


async def test_the_county_officer_opens_the_report_exports_it_and_prints_it(
    open_session, client, engine, world: World
):
    await portfolio(client, world)
    expected = await risk_json(client, world, "county", f"&county_code={COUNTY}")
    overdue = [row["contract_no"] for row in expected["overdue"]]
    assert overdue  # the portfolio has loans overdue on the date

    county = await open_session("county")
    page = await county.open("/todo")
    await page.get_by_role("link", name="县级风险报告").click()
    await expect(page.get_by_role("heading", name="县级风险报告", exact=True)).to_be_visible()
    await expect(page.get_by_label("区划")).to_have_value("金川区")
    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()

    # Another report date: the report is the API's for that date.
    await page.get_by_label("报告日期").fill(AS_OF)
    await page.get_by_role("button", name="查询").click()
    assert f"as_of={AS_OF}" in page.url
    await expect(page.get_by_text("统计日期：2026年5月31日", exact=False)).to_be_visible()
    listed = page.locator("section", has=page.get_by_role("heading", name="五、逾期贷款清单")).locator(
        "tbody tr"
    )
    await expect(listed).to_have_count(len(overdue))
    for contract_no in overdue:
        await expect(page.locator(".county-risk").get_by_text(contract_no).first).to_be_visible()

    # 导出 Excel: the workbook of the same date, its overdue sheet as the API's JSON, a Chinese file name.
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="导出 Excel").click()
    download = await download_info.value
    assert download.suggested_filename == f"金川区县妇联风险报告-{AS_OF}.xlsx"
    sheets = pl.read_excel(await download.path(), sheet_id=0)
    sheet = sheets[table_label("overdue")]
    assert sheet[column_label("contract_no")].to_list() == overdue
    outstanding = [Decimal(row["outstanding_principal"]) for row in expected["overdue"]]
    workbook_outstanding = sheet[column_label("outstanding_principal", "overdue")].to_list()
    assert [Decimal(str(v)).quantize(Decimal("0.01")) for v in workbook_outstanding] == outstanding
    for full_id in re.findall(r"\d{17}[\dX]", " ".join(map(str, sheet.to_dicts()))):
        raise AssertionError(f"a full ID number in the workbook: {full_id}")

    # 打印: the printable page alone, A4 pages in the PDF, the menu and the bar not printed.
    await page.get_by_role("button", name="打印").click()
    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    assert "/reports/county-risk/print" in page.url and f"as_of={AS_OF}" in page.url
    await expect(page.get_by_role("navigation", name="报告操作")).to_be_visible()
    await page.emulate_media(media="print")
    await expect(page.get_by_role("navigation", name="报告操作")).to_be_hidden()
    pdf = await page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= 6, pages  # a page break before each numbered section
    assert TITLE in pdf_title(pdf)
    await page.emulate_media(media="screen")
    await page.get_by_role("link", name="返回查询").click()
    await expect(page.get_by_label("报告日期")).to_have_value(AS_OF)

    # The page inside the layout prints without its menu and filters too.
    await page.emulate_media(media="print")
    await expect(page.get_by_role("navigation", name="主菜单")).to_be_hidden()
    await expect(page.get_by_role("search", name="报告条件")).to_be_hidden()
    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    assert county.console_errors() == [], county.console_errors()


async def test_the_report_keeps_to_the_callers_scope(open_session, client, engine, world: World):
    await portfolio(client, world)
    # Another county's officer, editing the address: not found, as the API answers, nothing of the report.
    other = await open_session("other_county_officer")
    for path in ("/reports/county-risk", "/reports/county-risk/print", "/reports/county-risk/export"):
        answer_page = await other.page.request.get(f"{other.base}{path}?county_code={COUNTY}&as_of={AS_OF}")
        assert answer_page.status == 404, path
        assert "未找到" in await answer_page.text()
        assert "RPT-A" not in await answer_page.text()
    county = await open_session("county")
    page = await county.open(f"/reports/county-risk?county_code={OTHER_COUNTY}")
    assert county.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("未找到")

    # The township sees its own loans, as the API shows them to her, the county fixed by her scope.
    township_json = await risk_json(client, world, "township")
    township = await open_session("township")
    page = await township.open("/todo")
    await page.get_by_role("link", name="县级风险报告").click()
    await page.get_by_label("报告日期").fill(AS_OF)
    await page.get_by_role("button", name="查询").click()
    await expect(page.get_by_label("区划")).to_have_value("金川区")
    for row in township_json["overdue"]:
        await expect(page.locator(".county-risk").get_by_text(row["contract_no"]).first).to_be_visible()
    # ID numbers masked as in the API's own page: no full number on the page.
    text = await page.locator(".county-risk").inner_text()
    assert re.findall(r"\d{17}[\dX]", text) == []
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", text)

    # The village head has no menu item; by address she gets what the API gives her: her village only.
    village = await open_session("village")
    page = await village.open("/todo")
    await expect(page.get_by_role("link", name="县级风险报告")).to_have_count(0)
    village_json = await risk_json(client, world, "village")
    page = await village.open(f"/reports/county-risk?as_of={AS_OF}")
    assert village.status == 200
    listed = page.locator("section", has=page.get_by_role("heading", name="五、逾期贷款清单")).locator(
        "tbody tr"
    )
    await expect(listed).to_have_count(max(1, len(village_json["overdue"])))  # an empty list shows one 无 row


async def test_a_user_above_county_level_chooses_the_county(open_session, client, engine, world: World):
    await portfolio(client, world)
    admin = await open_session("admin")
    page = await admin.open("/reports/county-risk")
    await expect(page.get_by_text("请选择县（区）后查询")).to_be_visible()
    # every county of the deployment is offered (other tests add counties of their own to the reference rows)
    options = await page.get_by_label("区划").locator("option").all_inner_texts()
    assert options[0] == "请选择县（区）" and {"金川区", "永昌县"} <= set(options[1:]), options
    await page.get_by_label("区划").select_option(label="金川区")
    await page.get_by_label("报告日期").fill(AS_OF)
    await page.get_by_role("button", name="查询").click()
    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    assert f"county_code={COUNTY}" in page.url
    await expect(page.locator(".county-risk").get_by_text("RPT-B").first).to_be_visible()


async def test_a_report_built_in_the_background_is_downloaded_by_its_starter(
    open_session, client, engine, world: World, run_jobs
):
    await portfolio(client, world)
    expected = await risk_json(client, world, "county", f"&county_code={COUNTY}")
    county = await open_session("county")
    page = await county.open(f"/reports/county-risk?as_of={AS_OF}")
    # The form a portfolio over the synchronous limit shows (50,000 loans), posted here by hand.
    answer_page = await page.request.post(
        f"{county.base}/reports/county-risk/jobs",
        form={"_csrf_token": await csrf_token(page), "as_of": AS_OF, "format": "xlsx"},
    )
    assert answer_page.status == 200 and "/reports/jobs/" in answer_page.url
    page = await county.open(answer_page.url.removeprefix(county.base))
    await expect(page.locator("#progress")).to_contain_text("排队中")
    assert await run_jobs() >= 1
    link = page.get_by_role("link", name="下载 Excel")
    await expect(link).to_be_visible(timeout=15_000)  # the page polls and reloads once the job is done
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == f"金川区县妇联风险报告-{AS_OF}.xlsx"
    sheet = pl.read_excel(await download.path(), sheet_name=table_label("overdue"))
    assert sheet[column_label("contract_no")].to_list() == [r["contract_no"] for r in expected["overdue"]]

    # The job is its starter's and her county's readers': the township's staff do not find it.
    job_path = page.url.removeprefix(county.base)
    township = await open_session("township")
    for path in (job_path, f"{job_path}/download"):
        await township.open(path)
        assert township.status == 404, path


async def test_report_pages_are_accessible_fit_a_phone_and_are_kept_as_screenshots(
    open_session, client, engine, world: World, screens
):
    await portfolio(client, world)
    failures = []
    for viewport in (DESKTOP, PHONE):
        county = await open_session("county", viewport, for_axe=True)
        for name, path in (
            ("county-risk", f"/reports/county-risk?as_of={AS_OF}"),
            ("county-risk-print", f"/reports/county-risk/print?as_of={AS_OF}"),
        ):
            page = await county.open(path)
            assert county.status == 200, name
            await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
            failures += [(name, viewport["width"], v) for v in await axe_violations(page)]
            if viewport is PHONE:
                overflow = await sideways_overflow(page)
                assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 375px"
            await screenshot(page, screens, name)
        assert county.console_errors() == [], county.console_errors()
    assert failures == [], failures
