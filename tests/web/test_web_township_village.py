"""The township's and the village head's day in a real browser: sign in, register an applicant (the ID checked
as it is typed), a new application, the village certificate on a phone (a refused step first, its Chinese error
beside the field), submission to the county; every state and next action visible, nothing offered that the
role may not do."""

from __future__ import annotations

import re
from datetime import date

from playwright.async_api import expect

from tests.support.browser import PHONE, answer_to, fill_application, sideways_overflow, type_id
from tests.support.ids import female_id, male_id, with_check_digit
from tests.support.world import VILLAGE, World


async def test_township_registers_and_submits_after_the_village_certificate(open_session, world: World):
    township = await open_session("township")
    page = township.page
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()

    # Registration: the ID is checked as it is typed, before anything is sent.
    await page.get_by_role("link", name="申请人登记").click()
    check = page.locator("#id-check")
    good = female_id(date(1988, 6, 1))
    await type_id(page, good[:17] + ("0" if good[17] != "0" else "1"))
    await expect(check).to_contain_text("校验位不正确")
    await type_id(page, male_id())
    await expect(check).to_contain_text("第17位须为偶数")
    await type_id(page, with_check_digit("620302201501010024"[:17]))
    await expect(check).to_contain_text("年满18周岁")
    await type_id(page, good)
    await expect(check).to_contain_text("校验通过：出生日期 1988-06-01，女")

    await page.get_by_label("姓名").fill("王桂香")
    await page.get_by_label("手机号").fill("13909351234")
    await page.get_by_label("所在村（居）").select_option(VILLAGE)
    await page.get_by_label("农村妇女").check()
    await page.get_by_role("button", name="登记").click()
    await expect(page.get_by_role("heading", name="王桂香 的档案")).to_be_visible()
    applicant_url = page.url
    assert re.search(r"/applicants/[0-9a-f-]{36}$", applicant_url)
    await expect(page.get_by_text(good, exact=True)).to_be_visible()  # township staff see the full number

    # The same ID again: found while typing, with a link to her file.
    await township.open("/applicants/new")
    await type_id(page, good)
    await expect(check).to_contain_text("该身份证号已登记")
    await expect(check.get_by_role("link", name="王桂香 的档案")).to_have_attribute(
        "href", applicant_url.removeprefix(township.base)
    )

    # A new application for her, from her file.
    await township.open(applicant_url.removeprefix(township.base))
    await page.get_by_role("button", name="为她登记贷款申请").click()
    await fill_application(
        page,
        world.fund_id,
        ("50000", "24", "quarterly_interest_bullet"),
        ("breeding", "养殖肉羊30只", "80000", "3"),
    )
    await page.get_by_role("button", name="保存为草稿").click()
    await expect(page.locator(".details .status").first).to_have_text("草稿")
    application_path = page.url.removeprefix(township.base)

    # Without a business licence she cannot be submitted before the village certificate: refused, in Chinese.
    assert await answer_to(page, page.get_by_role("button", name="报送县妇联").click) == 409
    await expect(page.get_by_role("alert")).to_contain_text("须先取得村级证明才能报送")
    await expect(page.locator(".details .status").first).to_have_text("草稿")

    # The village head, on her phone.
    village = await open_session("village", PHONE)
    phone = village.page
    await expect(phone.get_by_role("heading", name="我的待办")).to_be_visible()
    await phone.get_by_role("link", name="出具证明").first.click()
    await expect(phone.get_by_role("heading", name="出具村级证明")).to_be_visible()
    assert await sideways_overflow(phone) <= 0
    await phone.get_by_label("证明编号").fill("龙景村证〔2026〕12号")
    await phone.get_by_label("出具单位（村/居妇代会）").fill("龙景村妇代会")
    await phone.get_by_label("申请人户籍或常住在本村（居）").check()
    await phone.get_by_label("创业项目真实存在").check()
    assert await answer_to(phone, phone.get_by_role("button", name="出具证明").click) == 422
    # One fact left unconfirmed: refused, and the reason stands beside that box.
    error = phone.locator("#err-credit_good")
    await expect(error).to_have_text("村级证明须确认此项")
    await expect(phone.get_by_label("申请人诚实守信、无不良记录")).to_have_attribute("aria-invalid", "true")
    await expect(phone.get_by_label("证明编号")).to_have_value(
        "龙景村证〔2026〕12号"
    )  # nothing typed is lost
    await phone.get_by_label("申请人诚实守信、无不良记录").check()
    await phone.get_by_role("button", name="出具证明").click()
    await expect(phone.locator(".details .status").first).to_have_text("村级已出证明")
    # Her next step is not hers: the page offers her nothing.
    await expect(phone.get_by_role("button", name="报送县妇联")).to_have_count(0)
    await expect(phone.get_by_text("当前状态下您没有可办理的操作")).to_be_visible()
    assert await sideways_overflow(phone) <= 0

    # Back at the township: the certificate is on the page, and the submission goes through.
    await township.open(application_path)
    await expect(page.get_by_text("龙景村妇代会 第 龙景村证〔2026〕12号 号")).to_be_visible()
    await page.get_by_role("button", name="报送县妇联").click()
    await expect(page.locator(".details .status").first).to_have_text("乡镇已报送")
    await expect(page.get_by_role("button", name="报送县妇联")).to_have_count(0)
    history = page.locator("section[aria-labelledby=h-history] tbody tr")
    await expect(history).to_have_count(3)
    await expect(history.nth(2)).to_contain_text("报送县妇联")
    assert township.console_errors() == [] and village.console_errors() == []
