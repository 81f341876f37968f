"""Scope, role, session and CSRF hold in the pages as in the API."""

from __future__ import annotations

import re
from uuid import uuid4

from playwright.async_api import expect

from tests.support.browser import answer_to, csrf_token
from tests.support.journeys import certify, create_application, register
from tests.support.world import OTHER_TOWNSHIP_VILLAGE, PASSWORD, TOWNSHIP, World


async def test_a_township_never_sees_another_townships_applicant(open_session, client, world: World):
    ours = await register(client, world, name="本镇申请人")
    theirs = await register(
        client, world, who="township_other", name="外镇申请人", village_code=OTHER_TOWNSHIP_VILLAGE
    )
    await create_application(client, world, world.fund_id, applicant=ours)

    township = await open_session("township")
    page = await township.open("/applicants")
    await expect(page.get_by_role("link", name="本镇申请人").first).to_be_visible()
    await expect(page.get_by_text("外镇申请人")).to_have_count(0)
    # Not by searching for her by name, nor by the last digits of her ID.
    page = await township.open(f"/applicants?q={theirs['national_id_masked'][-4:]}")
    await expect(page.get_by_text("外镇申请人")).to_have_count(0)
    page = await township.open("/applicants?q=外镇")
    await expect(page.get_by_text("没有符合条件的申请人")).to_be_visible()
    # Nor by her file's address: the answer is "not found", as for a file that does not exist.
    page = await township.open(f"/applicants/{theirs['id']}")
    assert township.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("未找到")
    await expect(page.get_by_text("外镇申请人")).to_have_count(0)
    # The other township's own staff do see her, and not ours.
    other = await open_session("township_other")
    page = await other.open("/applicants")
    await expect(page.get_by_role("link", name="外镇申请人").first).to_be_visible()
    await expect(page.get_by_text("本镇申请人")).to_have_count(0)


async def test_a_forbidden_step_is_neither_offered_nor_accepted(open_session, client, world: World):
    application = await create_application(client, world, world.fund_id)
    await certify(client, world, application["id"])
    village = await open_session("village")
    page = await village.open(f"/applications/{application['id']}")
    await expect(page.locator(".details .status").first).to_have_text("村级已出证明")
    await expect(page.get_by_role("button", name="报送县妇联")).to_have_count(0)
    await expect(page.get_by_role("button", name="确认撤回")).to_have_count(0)

    # Posted by hand with a valid CSRF token, the service refuses it: the village head may not submit.
    token = await csrf_token(page)
    answer = await page.request.post(
        f"{village.base}/applications/{application['id']}/submit", form={"_csrf_token": token}
    )
    assert answer.status == 403
    assert "无权执行此操作" in await answer.text()
    page = await village.open(f"/applications/{application['id']}")
    await expect(page.locator(".details .status").first).to_have_text("村级已出证明")


async def test_a_form_without_its_csrf_token_is_refused(open_session, client, world: World):
    application = await create_application(client, world, world.fund_id)
    township = await open_session("township")
    page = await township.open(f"/applications/{application['id']}")
    answer = await page.request.post(
        f"{township.base}/applications/{application['id']}/withdraw", form={"reason": "x"}
    )
    assert answer.status == 403
    assert "页面已过期或来源不明" in await answer.text()
    page = await township.open(f"/applications/{application['id']}")
    await expect(page.locator(".details .status").first).to_have_text("草稿")


async def test_an_expired_session_signs_in_again_and_comes_back(open_session, client, world: World):
    await register(client, world, name="回访申请人")
    township = await open_session("township")
    await township.open("/applicants/new")

    # The session ends (expired or revoked) while a form is open: the ID check (htmx) goes to the sign-in page
    # instead of putting it inside the form.
    await township.context.add_cookies(
        [{"name": "jinguo_session", "value": "expired.token.value", "url": township.base}]
    )
    page = township.page
    await page.get_by_label("居民身份证号").fill("6203021988")
    await expect(page.get_by_role("heading", name="巾帼创业担保贷款管理系统")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("登录已过期")
    await township.sign_in_here("township")
    await expect(page.get_by_role("heading", name="申请人登记")).to_be_visible()

    # A link followed after expiry: the same, back to that page with its query.
    await township.context.add_cookies(
        [{"name": "jinguo_session", "value": "expired.token.value", "url": township.base}]
    )
    page = await township.open("/applicants?q=回访")
    await expect(page.get_by_role("status")).to_contain_text("登录已过期")
    await township.sign_in_here("township")
    assert page.url.endswith("/applicants?q=%E5%9B%9E%E8%AE%BF") or page.url.endswith("/applicants?q=回访")
    await expect(page.get_by_role("link", name="回访申请人").first).to_be_visible()


async def own_user(client, world: World) -> str:
    """A township user of the test's own: signing out or changing password ends the tokens of the world's."""
    username = f"web-{uuid4().hex[:8]}"
    body = {"username": username, "password": PASSWORD, "role": "township_staff", "region_code": TOWNSHIP}
    assert (await client.post("/api/v1/users", json=body, headers=world["admin"])).status_code == 201
    return username


async def test_signing_out_ends_the_session_everywhere(open_session, client, world: World):
    township = await open_session(await own_user(client, world))
    (cookie,) = [c for c in await township.context.cookies() if c["name"] == "jinguo_session"]
    page = township.page
    await page.get_by_role("button", name="退出").click()
    await expect(page.get_by_role("button", name="登录")).to_be_visible()
    page = await township.open("/todo")
    await expect(page.get_by_role("button", name="登录")).to_be_visible()
    # The old cookie, kept by hand, no longer opens anything: the token was revoked, not only forgotten.
    await township.context.add_cookies([cookie])
    page = await township.open("/todo")
    await expect(page.get_by_role("status")).to_contain_text("登录已过期")


async def test_a_password_change_keeps_this_browser_and_ends_the_others(open_session, client, world: World):
    username = await own_user(client, world)
    here = await open_session(username)
    elsewhere = await open_session(username)
    page = await here.open("/password")
    await page.get_by_label("当前密码").fill("not-my-password")
    await page.get_by_label(re.compile("^新密码")).fill("a-new-long-passphrase")
    await page.get_by_label("再次输入新密码").fill("a-new-long-passphrase")
    assert await answer_to(page, page.get_by_role("button", name="保存").click) == 422
    await expect(page.locator("#err-old_password")).to_have_text("原密码不正确")

    await page.get_by_label("当前密码").fill(PASSWORD)
    await page.get_by_label(re.compile("^新密码")).fill("a-new-long-passphrase")
    await page.get_by_label("再次输入新密码").fill("a-new-long-passphrase")
    await page.get_by_role("button", name="保存").click()
    await expect(page.get_by_role("status")).to_contain_text("密码已修改")
    page = await here.open("/todo")
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()
    page = await elsewhere.open("/todo")
    await expect(page.get_by_role("status")).to_contain_text("登录已过期")
    await elsewhere.sign_in_here(username, "a-new-long-passphrase")
    await expect(page.get_by_role("heading", name="我的待办")).to_be_visible()


async def test_a_wrong_password_is_refused_in_chinese(open_session, world: World):
    session = await open_session()
    await session.open("/")
    page = session.page
    await page.get_by_label("用户名").fill("township")
    await page.get_by_label("密码").fill("not-the-password")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    await expect(page.get_by_label("用户名")).to_have_value("township")


async def test_a_form_posted_after_expiry_comes_back_to_its_page(open_session, client, world: World):
    """A plain (non-htmx) form knows its page only from the Referer: the policy sends it to this origin."""
    applicant = await register(client, world, name="培训申请人")
    township = await open_session("township")
    page = await township.open(f"/applicants/{applicant['id']}")
    await page.get_by_text("登记培训").click()
    await page.get_by_label("课程").select_option("syb")
    await page.get_by_label("培训班名称").fill("巾帼创业SYB培训班")
    await page.get_by_label("培训机构").fill("金川区就业服务中心")
    await page.get_by_label("开班日期").fill("2026-03-01")
    await page.get_by_label("结业日期").fill("2026-03-10")
    await township.context.add_cookies(
        [{"name": "jinguo_session", "value": "expired.token.value", "url": township.base}]
    )
    await page.get_by_role("button", name="保存培训记录").click()
    await expect(page.get_by_role("status")).to_contain_text("登录已过期")
    await township.sign_in_here("township")
    await expect(page.get_by_role("heading", name="培训申请人 的档案")).to_be_visible()
    assert page.url == f"{township.base}/applicants/{applicant['id']}"
    # Nothing was written by the refused post.
    await expect(page.get_by_text("暂无培训记录")).to_be_visible()
