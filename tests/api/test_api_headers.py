"""Security headers on every answer, personal data never cached, and Swagger UI served from this origin so that
it works under the Content-Security-Policy: checked in a real Chromium against a real server."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest

from loans.server.app import create_app
from loans.settings import Settings
from tests.support.http import API
from tests.support.journeys import register
from tests.support.live import serving
from tests.support.world import World

CSP = "content-security-policy"


def assert_secured(response) -> None:
    policy = response.headers[CSP]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("method", "path", "who", "status"),
    [
        ("GET", f"{API}/applicants", "county", 200),
        ("GET", f"{API}/loans", None, 401),
        ("GET", f"{API}/loans?offset=-1", "county", 422),
        ("GET", f"{API}/loans/00000000-0000-0000-0000-000000000000", "county", 404),
        ("GET", f"{API}/no-such-thing", "county", 404),
        ("DELETE", f"{API}/loans", "county", 405),
        ("POST", f"{API}/auth/token", None, 422),
        ("GET", "/health", None, 503),  # no worker beats beside the suite's API
        ("GET", "/", None, 200),
        ("GET", "/schema/openapi.json", None, 200),
    ],
)
async def test_every_answer_carries_the_security_headers(client, world: World, method, path, who, status):
    response = await client.request(method, path, headers=world[who] if who else {})
    assert response.status_code == status, response.text
    assert_secured(response)


@pytest.mark.parametrize(
    "path", ["/applicants", "/applications", "/loans", "/reports/repayment-rate", "/jobs", "/reminders"]
)
async def test_answers_with_personal_data_are_never_stored(client, world: World, path):
    await register(client, world)
    response = await client.get(f"{API}{path}", headers=world["county"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"


async def test_an_error_answer_is_not_stored_either(client, world: World):
    response = await client.get(
        f"{API}/applicants/00000000-0000-0000-0000-000000000000", headers=world["county"]
    )
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


async def test_the_swagger_page_loads_only_from_this_origin_and_runs_no_inline_script(client):
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    assert_secured(page)
    html = page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/schema/") for source in sources), sources
    assert re.search(r"<script>|<script [^>]*>[^<]", html) is None, (
        "an inline script would be blocked by the CSP"
    )
    for source in sources:
        asset = await client.get(source)
        assert asset.status_code == 200, source
        assert_secured(asset)
    assert "SwaggerUIBundle" in (await client.get("/schema/swagger-ui/swagger-ui-bundle.js")).text


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[str]:
    with serving(create_app(settings)) as base_url:
        yield base_url


def test_swagger_ui_renders_every_operation_in_chromium_under_the_policy(live_server: str, chromium: str):
    with urllib.request.urlopen(f"{live_server}/schema/swagger", timeout=5) as response:
        assert "default-src 'self'" in response.headers[CSP]
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=15000",
            "--dump-dom",
            f"{live_server}/schema/swagger",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    operations = re.findall(r'class="opblock opblock-(get|post|patch|put|delete)', dom)
    assert len(operations) >= 50, dom[:2000]
