"""The web interface on the loaded portfolio, as the county officer of the largest county meets it.

- A list page's first load (贷款台账, cold cache) in Debian's Chromium over an emulated slow link (CDP
  ``Network.emulateNetworkConditions``: 400 kbit/s down and up, 400 ms latency): the bytes transferred (encoded,
  headers included, every request until the network is idle) and the time to the load event (Navigation Timing);
  beside them the same page loaded again with its assets cached.
- The time 我的待办 (/todo) and 贷款台账 (/loans) take to answer, one request after another with a session cookie
  (httpx, over loopback: the figure is the server's time plus a loopback round trip and the client's parsing).
  Beside 贷款台账, the API's JSON of the same list (``GET /api/v1/loans?limit=20``) for the same user; beside
  我的待办, ``GET /api/v1/auth/me``, the lightest authenticated request.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import httpx
from playwright.async_api import async_playwright
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.environment import PASSWORD, Api, user
from loans.core.roles import Role

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SLOW_LINK = {
    "offline": False,
    "latency": 400,  # ms, each round trip
    "downloadThroughput": 400_000 / 8,  # bytes/s
    "uploadThroughput": 400_000 / 8,
}
WARMUP = 5
RUNS = 3
LIST_PAGE = "/loans"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def county_officer(engine: AsyncEngine) -> tuple[str, str, int]:
    """(username, county, its loans): the county officer of the county with the most loans."""
    async with engine.connect() as connection:
        county, loans = (
            await connection.execute(
                text(
                    "SELECT county_code, count(*) FROM loan GROUP BY county_code ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
    officer = await user(engine, f"bench_county_{county}", Role.COUNTY_OFFICER, county)
    return officer.username, county, loans


async def _sign_in(get: Any, post: Any, username: str) -> None:
    """Through the sign-in form, as a browser does (its CSRF token, then the session cookie)."""
    page = await get("/")
    found = CSRF_INPUT.search(page)
    assert found, "no CSRF token on the sign-in page"
    await post(
        "/login", {"username": username, "password": PASSWORD, "next": "/todo", "_csrf_token": found[1]}
    )


def _timings(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "requests": len(ordered),
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[round(0.95 * (len(ordered) - 1))],
        "max_ms": 1000 * ordered[-1],
    }


async def _timed(client: httpx.AsyncClient, path: str, requests: int, **kwargs: Any) -> dict[str, Any]:
    for _ in range(WARMUP):
        (await client.get(path, **kwargs)).raise_for_status()
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path, **kwargs)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
        assert "/?next=" not in str(response.url), f"{path}: signed out"
    return _timings(seconds) | {"bytes": len(response.content)}


async def server_times(api: Api, username: str, requests: int) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:

        async def get(path: str) -> str:
            return (await client.get(path)).text

        async def post(path: str, form: dict[str, str]) -> None:
            response = await client.post(path, data=form)
            assert response.status_code == 303, f"sign-in answered {response.status_code}"

        await _sign_in(get, post, username)
        headers = await api.token(client, username)
        return {
            "todo": await _timed(client, "/todo", requests),
            "loans": await _timed(client, LIST_PAGE, requests),
            "api_loans": await _timed(client, "/api/v1/loans?limit=20", requests, headers=headers),
            "api_me": await _timed(client, "/api/v1/auth/me", requests, headers=headers),
        }


async def _load(page: Any, cdp: Any, base: str, path: str) -> dict[str, Any]:
    """One navigation: bytes on the wire (every response finished until the network is idle) and the time from
    navigation start to the end of the load event."""
    finished: dict[str, int] = {}
    urls: dict[str, str] = {}

    def sent(event: dict[str, Any]) -> None:
        urls[event["requestId"]] = event["request"]["url"].removeprefix(base).split("?")[0]

    def count(event: dict[str, Any]) -> None:
        finished[event["requestId"]] = event["encodedDataLength"]

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", count)
    try:
        await page.goto(base + path, wait_until="load")
        await page.wait_for_load_state("networkidle")
    finally:
        cdp.remove_listener("Network.loadingFinished", count)
        cdp.remove_listener("Network.requestWillBeSent", sent)
    navigation = await page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    return {
        "seconds": navigation["loadEventEnd"] / 1000,
        "bytes": sum(finished.values()),
        "requests": len(finished),
        "document_bytes": navigation["encodedBodySize"],
        "each": {urls.get(request, request): size for request, size in finished.items()},
    }


async def first_load(api: Api, username: str) -> dict[str, Any]:
    """The list page loaded in a fresh browser context (nothing cached), then again (assets cached); ``RUNS`` times,
    the median run reported (the machine's load moves a single run's figure by a second)."""
    runs = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for _ in range(RUNS):
                runs.append(await _cold_and_warm(browser, api.url, username))
        finally:
            await browser.close()
    median = sorted(runs, key=lambda run: run["cold"]["seconds"])[len(runs) // 2]
    return median | {"link": SLOW_LINK, "cold_seconds_each": [run["cold"]["seconds"] for run in runs]}


async def _cold_and_warm(browser: Any, base: str, username: str) -> dict[str, Any]:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", base_url=base)
    try:

        async def get(path: str) -> str:
            return await (await context.request.get(path)).text()

        async def post(path: str, form: dict[str, str]) -> None:
            response = await context.request.post(path, form=form, max_redirects=0)
            assert response.status == 303, f"sign-in answered {response.status}"

        # Signed in through the request API, which shares the cookies but not the page cache: the list page then
        # loads with nothing cached.
        await _sign_in(get, post, username)
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
        cold = await _load(page, cdp, base, LIST_PAGE)
        assert page.url.endswith(LIST_PAGE), f"not the list page: {page.url}"
        return {"cold": cold, "warm": await _load(page, cdp, base, LIST_PAGE)}
    finally:
        await context.close()
