"""Fixtures of the API tests: a guarantee fund with money in it, a second app served in the test's own
event loop (for requests that really run at the same time), and extra products (without a guarantee fund,
requiring training, not yet in effect). Products and funds are reference rows: they last the session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loans.server.app import create_app
from loans.settings import Settings
from tests.support.http import API, client_of, expect
from tests.support.journeys import deposit_into, new_fund
from tests.support.world import World, product_body

CREDIT_PRODUCT = "JC-CREDIT-TEST"


@pytest.fixture(scope="session")
async def shared_fund_id(client: AsyncTestClient, world: World) -> str:
    """A fund row kept for the session; its deposits (transactional) are made again by each test."""
    return await new_fund(client, world)


@pytest.fixture
async def fund_id(client: AsyncTestClient, world: World, shared_fund_id: str) -> str:
    """A fund holding 1,000,000.00 at leverage 5: capacity 5,000,000.00, more than any test needs."""
    await deposit_into(client, world, shared_fund_id, "1000000.00")
    return shared_fund_id


@pytest.fixture(scope="session")
async def credit_product(client: AsyncTestClient, world: World) -> str:
    """A 免担保 product: its applications name no fund, so no bank until a bank decides."""
    body = product_body(code=CREDIT_PRODUCT, name="金川区免担保创业贷款", guarantee_mode="credit")
    expect(await client.post(f"{API}/products", json=body, headers=world["admin"]), 201)
    return CREDIT_PRODUCT


@pytest.fixture(scope="session")
async def training_product(client: AsyncTestClient, world: World) -> str:
    """A product whose bank decision needs a training certificate (SPEC: 创业培训)."""
    body = product_body(code="JC-TRAINED-TEST", name="金川区创业贷款（须培训）", requires_training=True)
    expect(await client.post(f"{API}/products", json=body, headers=world["admin"]), 201)
    return "JC-TRAINED-TEST"


@pytest.fixture(scope="session")
async def future_product(client: AsyncTestClient, world: World) -> str:
    """A product that is not in effect yet."""
    body = product_body(code="JC-FUTURE-TEST", name="金川区创业贷款（明年）", effective_from="2099-01-01")
    expect(await client.post(f"{API}/products", json=body, headers=world["admin"]), 201)
    return "JC-FUTURE-TEST"


@pytest.fixture(scope="session")
async def served_app(settings: Settings) -> AsyncIterator[Litestar]:
    """An app served in the test's event loop, for clients on httpx's ASGI transport.

    Litestar's AsyncTestClient hands each request to a blocking portal, so requests gathered on it run
    one after another; a client on this app awaits it directly, so gathered requests interleave for real.
    The app's lifespan is entered and left in one task of its own (anyio's scopes require it).
    """
    app = create_app(settings)
    started, stop = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    server = asyncio.create_task(serve())
    await asyncio.wait([server, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED)
    if server.done():
        server.result()  # the lifespan failed: raise its error
    try:
        yield app
    finally:
        stop.set()
        await server


@pytest.fixture(scope="session")
async def concurrent_client(served_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(served_app) as client:
        yield client
