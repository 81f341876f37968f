"""Schemathesis over the whole OpenAPI document, with the token of every role: no answer is a 5xx, and
every answer has a documented status, content type and body.

It runs against a real server (uvicorn on a free port) holding a database and a Valkey database of its own, with
the reference world built in it: what it creates at random (regions, banks, users, products) never reaches the
other tests' data. Examples are bounded (FUZZ_EXAMPLES per operation, positive and negative) to keep it to a
minute or two on the 2-core machine; each example draws its caller from every role.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from loans.migrate import upgrade_head
from loans.outbox.service import beat
from loans.server.app import create_app
from loans.settings import Settings
from tests.support.live import serving
from tests.support.world import USERS, World, build_world

FUZZ_DATABASE = "jinguo_schemathesis"
# Per operation; LOANS_FUZZ_EXAMPLES=200 for a deeper run by hand.
FUZZ_EXAMPLES = int(os.environ.get("LOANS_FUZZ_EXAMPLES", "25"))
CALLERS = ["admin", *USERS]
# Ends every token of the caller, and so the rest of the run for her role; it takes no input to vary.
LOG_OUT = "/api/v1/auth/logout"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
async def fuzz_settings(settings: Settings) -> Settings:
    """The test settings pointed at a database and a Valkey database that only this module uses."""
    engine = create_async_engine(settings.async_database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"DROP DATABASE IF EXISTS {FUZZ_DATABASE} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {FUZZ_DATABASE}"))
    finally:
        await engine.dispose()
    database_url = settings.database_url.rsplit("/", 1)[0] + f"/{FUZZ_DATABASE}"
    redis_url = urlsplit(settings.redis_url)._replace(path="/1").geturl()
    # /health answers 503 without a worker's recent beat: the fuzz world records one, fresh for the whole run
    update = {"database_url": database_url, "redis_url": redis_url, "worker_dead_after_seconds": 3600}
    fuzz = settings.model_copy(update=update)
    await asyncio.to_thread(upgrade_head, fuzz.async_database_url)  # alembic runs a loop of its own
    return fuzz


@pytest.fixture(scope="module")
async def fuzz_world(fuzz_settings: Settings) -> AsyncIterator[World]:
    engine = create_async_engine(fuzz_settings.async_database_url)
    try:
        async with AsyncSession(engine) as session:
            await beat(session, uuid4(), datetime.now(UTC))
        async with AsyncTestClient(app=create_app(fuzz_settings)) as client:
            yield await build_world(client, engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def fuzz_server(fuzz_settings: Settings, fuzz_world: World) -> Iterator[str]:
    with serving(create_app(fuzz_settings)) as base_url:
        yield base_url


def _operations() -> list[tuple[str, str]]:
    """Every operation of the document, read at collection from an app that connects to nothing."""
    offline = Settings(DATABASE_URL="postgresql://unused/unused", LOANS_SECRET_KEY="collection-only-" * 3)
    paths = create_app(offline).openapi_schema.to_schema()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item if path != LOG_OUT]


@pytest.fixture(scope="module")
def api_schema(fuzz_server: str):
    return schemathesis.openapi.from_url(f"{fuzz_server}/schema/openapi.json")


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda value: value)
def test_no_operation_answers_a_server_error_or_off_its_schema(
    method, path, api_schema, http, fuzz_world: World, fuzz_server: str
):
    operation = api_schema[path][method]
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))

    @given(case=cases, caller=st.sampled_from(CALLERS))
    @settings(
        max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(case, caller) -> None:
        headers = fuzz_world[caller]
        case.call_and_validate(base_url=fuzz_server, session=http, headers=headers, checks=CHECKS, timeout=30)

    call()
