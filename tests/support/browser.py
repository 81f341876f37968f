"""A page as the browser tests handle it: the two widths, filling in forms, the answer to a post, and a page
looked over as a person meets it (axe-core's findings, sideways scrolling, a screenshot)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

AXE = Path(__file__).parents[1] / "web" / "vendor" / "axe-core-4.14.1.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


async def type_id(page: Page, number: str) -> None:
    field = page.get_by_label("居民身份证号")
    await field.fill("")
    await field.press_sequentially(number, delay=5)


async def answer_to(page: Page, action) -> int:
    """The status of the form post that ``action`` makes."""
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await action()
    return (await answer.value).status


async def csrf_token(page) -> str:
    return await page.locator("input[name=_csrf_token]").first.get_attribute("value")


async def fill_application(
    page: Page, fund_id: str, terms: tuple[str, str, str], project: tuple[str, str, str, str]
) -> None:
    """The new application's form: the product's first choice, ``terms`` (amount, months, repayment method) and
    ``project`` (type, description, investment, jobs expected)."""
    amount, months, method = terms
    kind, description, investment, jobs = project
    await page.get_by_label("贷款产品").select_option(index=1)
    await page.get_by_label("申请金额（元）").fill(amount)
    await page.get_by_label("期限（月）").fill(months)
    await page.get_by_label("还款方式").select_option(method)
    await page.get_by_label("担保基金").select_option(fund_id)
    await page.get_by_label("项目类型").select_option(kind)
    await page.get_by_label("项目简介").fill(description)
    await page.get_by_label("项目总投资（元）").fill(investment)
    await page.get_by_label("预计带动就业（人）").fill(jobs)


async def axe_violations(page: Page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA findings on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]}
        for v in result["violations"]
    ]


async def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


async def screenshot(page: Page, folder: Path, name: str) -> Path:
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = folder / f"{name}-{width}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def inspect_page(page: Page, folder: Path, name: str) -> list[tuple[str, int, dict]]:
    """A page as a person meets it: axe-core's findings (as (name, width, violation)), no sideways scrolling on a
    phone (asserted), and its screenshot kept."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    failures = [(name, width, v) for v in await axe_violations(page)]
    if width <= PHONE["width"]:
        overflow = await sideways_overflow(page)
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
    await screenshot(page, folder, name)
    return failures
