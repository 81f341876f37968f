"""Browser tests: the app served by uvicorn on a free 127.0.0.1 port against the suite's PostgreSQL and
Valkey, driven in Debian's Chromium through Playwright (one browser for the session, a context per user).
Chromium and a CJK font are installed by install_browser.sh when missing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from loans.embedded import free_port
from loans.settings import Settings
from tests.conftest import Servers
from tests.support.browser import DESKTOP
from tests.support.world import PASSWORD, World

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium draws form controls (a date input's yyyy/mm/dd) in its own UI language, not the context's locale nor
# the page's lang: Chinese, as on a Chinese user's PC (its zh-CN.pak is in chromium-l10n, see install_browser.sh).
CHROMIUM_ENV = {"LANGUAGE": "zh_CN"}
SCREENS = Path(os.environ.get("JINGUO_SCREENS", "/tmp/jinguo-screens"))


@pytest.fixture(scope="session")
def web_base(servers: Servers, settings: Settings, world: World, tmp_path_factory) -> Iterator[str]:
    """The real server in its own process, as a user's browser meets it; stopped by its PID."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "LOANS_SECRET_KEY": settings.secret_key or "",
        "LOANS_DATA_DIR": str(tmp_path_factory.mktemp("web-data")),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "loans.server.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the web server exited"
            try:
                # the sign-in page: /health answers 503 here, no worker beats beside this server
                with urllib.request.urlopen(f"{base}/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS, env={**os.environ, **CHROMIUM_ENV}
        )
        yield browser
        await browser.close()


class Session:
    """One user's browser: a context with her cookies, at a desktop or a phone's width."""

    def __init__(self, context: BrowserContext, page: Page, base: str) -> None:
        self.context, self.page, self.base = context, page, base
        self.console: list = []

    async def open(self, path: str) -> Page:
        response = await self.page.goto(self.base + path)
        assert response is not None
        self.status = response.status
        return self.page

    def console_errors(self) -> list[str]:
        """What the browser complained of (a script or style refused by the CSP, a missing file), but for the
        refusals of a step that the test provoked."""
        refused = re.compile(r"status of (401|403|404|409|422) ")
        return [m.text for m in self.console if m.type == "error" and not refused.search(m.text)]

    async def sign_in(self, username: str, password: str = PASSWORD) -> Page:
        await self.open("/")
        return await self.sign_in_here(username, password)

    async def sign_in_here(self, username: str, password: str = PASSWORD) -> Page:
        """Fill in the sign-in form the page shows now."""
        await self.page.get_by_label("用户名").fill(username)
        await self.page.get_by_label("密码").fill(password)
        await self.page.get_by_role("button", name="登录").click()
        await self.page.wait_for_load_state()
        return self.page


@pytest.fixture
async def open_session(browser: Browser, web_base: str) -> AsyncIterator:
    contexts: list[BrowserContext] = []

    async def open_one(
        username: str | None = None, viewport: dict[str, int] = DESKTOP, *, for_axe: bool = False
    ) -> Session:
        context = await browser.new_context(
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            accept_downloads=True,
            bypass_csp=for_axe,  # axe-core is injected as an inline script; the pages themselves need no bypass
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        session = Session(context, await context.new_page(), web_base)
        session.page.on("console", lambda message: session.console.append(message))
        if username:
            await session.sign_in(username)
        return session

    yield open_one
    for context in contexts:
        await context.close()


@pytest.fixture(scope="session")
def screens() -> Path:
    """Screenshots for a person to look at, outside the repository."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS
