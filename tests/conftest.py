"""Test setup: a real PostgreSQL and a real Valkey (Redis protocol) started from the pinned wheels,
the schema made by `alembic upgrade head`, and the API driven through Litestar's test client."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from arq.connections import RedisSettings
from arq.worker import Worker
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from loans.embedded import EmbeddedPostgres, EmbeddedValkey
from loans.migrate import upgrade_head
from loans.models import metadata
from loans.reporting.service import report_reading
from loans.server.app import create_app
from loans.settings import Settings
from reports.loader import Reading
from tests.support.world import LANES, World, build_world
from workers.settings import WorkerSettings, shutdown, startup

# Browser, fault-injection, fuzzing and whole-process tests: minutes, not seconds (`pytest -m "not slow"` skips them).
SLOW = (
    "tests/web/",
    "tests/faults/",
    "tests/api/test_api_schemathesis.py",
    "tests/test_dev_command.py",
    "tests/test_backup.py",
)
REFERENCE_TABLES = {"alembic_version", "region", "bank", "loan_product", "app_user", "guarantee_fund"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = config.rootpath
    for item in items:
        if item.path.relative_to(root).as_posix().startswith(SLOW):
            item.add_marker(pytest.mark.slow)


@dataclass(frozen=True)
class Servers:
    database_url: str
    redis_url: str

    @property
    def async_database_url(self) -> str:
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed (with a CJK font) by tests/web/install_browser.sh when missing."""
    subprocess.run(["bash", str(Path(__file__).parent / "web" / "install_browser.sh")], check=True)
    return "/usr/bin/chromium"


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    root = Path(tempfile.mkdtemp(prefix="jinguo-test-"))
    postgres = EmbeddedPostgres(root / "pg", durable=False)
    valkey = EmbeddedValkey(root / "valkey")
    postgres.start()
    try:
        valkey.start()
        postgres.create_database("jinguo_test")
        servers = Servers(postgres.url_for("jinguo_test"), valkey.url)
        upgrade_head(servers.async_database_url)
        yield servers
    finally:
        valkey.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(servers: Servers) -> Settings:
    return Settings(
        DATABASE_URL=servers.database_url,
        REDIS_URL=servers.redis_url,
        LOANS_SECRET_KEY="test-secret-key-that-is-long-enough-for-hs256",
        LOANS_DB_POOL_SIZE=10,
        LOANS_DB_MAX_OVERFLOW=30,
        LOANS_LANES=LANES,
        LOANS_REPORT_READERS=LANES,
    )


@pytest.fixture(scope="session")
def reading(settings: Settings) -> Reading:
    """How the tests' reports read their tables: the test settings' readers, work_mem and timezone."""
    return report_reading(settings)


@pytest.fixture(scope="session")
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(servers.async_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


@pytest.fixture(scope="session")
async def world(client: AsyncTestClient, engine: AsyncEngine) -> World:
    return await build_world(client, engine)


@pytest.fixture
def run_jobs(settings: Settings) -> Callable[[], Awaitable[int]]:
    """Run every queued arq job to completion with a burst worker on the real Valkey; returns jobs run."""

    async def run() -> int:
        worker = Worker(
            functions=WorkerSettings.functions,
            redis_settings=RedisSettings.from_dsn(settings.redis_url),
            on_startup=startup,
            on_shutdown=shutdown,
            burst=True,
            poll_delay=0.05,
            max_tries=WorkerSettings.max_tries,
            ctx={"settings": settings},
            handle_signals=False,
        )
        try:
            await worker.async_run()
            return worker.jobs_complete + worker.jobs_failed
        finally:
            await worker.close()

    return run


def cleaning_statements() -> str:
    """The statements that empty the transactional tables and restart their identity columns, as TRUNCATE ...
    RESTART IDENTITY did, but as DELETEs with the foreign keys and the append-only triggers off for the
    transaction (`session_replication_role = replica`). A test leaves a few rows; TRUNCATE of every table made new
    files for each table and index: 47-194 ms a test under load, against 0.5-4 ms for the DELETEs. The tables are
    the models' (`alembic check` holds the migrations to them)."""
    tables = [table for table in metadata.sorted_tables if table.name not in REFERENCE_TABLES]
    return "; ".join(
        [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {table.name}" for table in tables),
            *(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), 1, false)"
                for table in tables
                for column in table.columns
                if column.identity is not None
            ),
        ]
    )


CLEANING = cleaning_statements()


@pytest.fixture(autouse=True)
async def clean_transactional_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After every test that used the servers, empty the transactional tables (reference rows stay). Tests
    that use no server (tests/unit) start none.

    Not a transaction rolled back per test: the API commits per request and the workers in sessions of their own,
    and nearly every database test builds its rows through them; the few that only use a session of their own
    (tests/flows/test_driver.py) roll back by themselves."""
    if "servers" not in request.fixturenames:
        yield
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    yield
    async with engine.begin() as conn:
        await (await conn.get_raw_connection()).driver_connection.execute(CLEANING)
