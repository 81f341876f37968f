"""No lost work, with the servers failing for real: a PostgreSQL and a Valkey of this module's own (stopped and
started by the tests), the API in-process and real `loans worker` processes, with a heartbeat of 0.3 s and a
worker taken for dead after 2 s of silence."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from loans.core.clock import today
from loans.embedded import EmbeddedPostgres, EmbeddedValkey
from loans.imports.models import RepaymentImport
from loans.jobs.models import Job
from loans.migrate import upgrade_head
from loans.outbox.models import OutboxTask
from loans.server.app import create_app
from loans.settings import Settings
from loans.web.session import SESSION_COOKIE
from tests.support.world import World, build_world

FAST = {
    "LOANS_WORKER_HEARTBEAT_SECONDS": "0.3",
    "LOANS_WORKER_DEAD_AFTER_SECONDS": "2",
    "LOANS_DISPATCH_SECONDS": "0.3",
}
BANK_FILE = "合同编号,交易流水号,还款日期,还款金额\nJC-NONE,F-001,2026-02-15,10.00\n".encode()


@dataclass
class Servers:
    root: Path
    postgres: EmbeddedPostgres
    valkey: EmbeddedValkey
    settings: Settings

    @property
    def database_url(self) -> str:
        return self.settings.database_url or ""


@pytest.fixture(scope="module")
def own_servers() -> Iterator[Servers]:
    root = Path(tempfile.mkdtemp(prefix="jinguo-faults-"))
    postgres = EmbeddedPostgres(root / "pg", durable=False)
    valkey = EmbeddedValkey(root / "valkey")
    postgres.start()
    try:
        valkey.start()
        postgres.create_database("jinguo_faults")
        settings = Settings(
            DATABASE_URL=postgres.url_for("jinguo_faults"),
            REDIS_URL=valkey.url,
            LOANS_SECRET_KEY="test-secret-key-that-is-long-enough-for-hs256",
            LOANS_WORKER_DEAD_AFTER_SECONDS=2,
        )
        upgrade_head(settings.async_database_url)
        yield Servers(root, postgres, valkey, settings)
    finally:
        valkey.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
async def probe(own_servers: Servers) -> AsyncIterator[AsyncEngine]:
    """Reads of the outcome: a connection of its own each time, so a PostgreSQL restart leaves none stale."""
    engine = create_async_engine(own_servers.settings.async_database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def api(own_servers: Servers) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(own_servers.settings)) as client:
        yield client


@pytest.fixture(scope="module")
async def people(api: AsyncTestClient, probe: AsyncEngine) -> World:
    return await build_world(api, probe)


@pytest.fixture
def workers(own_servers: Servers) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start `loans worker` processes against this module's servers; all are stopped after the test."""
    started: list[subprocess.Popen] = []
    env = {
        **os.environ,
        "DATABASE_URL": own_servers.database_url,
        "REDIS_URL": own_servers.valkey.url,
        **FAST,
    }

    def start() -> subprocess.Popen:
        log = open(own_servers.root / f"worker-{len(started)}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "loans.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def until(check: Callable[[], Awaitable[Any] | Any], what: str, seconds: float = 180) -> Any:
    """Polls ``check``; the bound is generous for a loaded machine (a worker's imports alone took 50 s there)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
            if inspect.isawaitable(found):
                found = await found
            if found:
                return found
        except OSError:  # the server being restarted
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def entry(probe: AsyncEngine, row_id: str) -> OutboxTask | None:
    async with AsyncSession(probe) as session:
        return await session.scalar(select(OutboxTask).where(OutboxTask.row_id == row_id))


async def finished(probe: AsyncEngine, model: type, row_id: str) -> Any:
    async with AsyncSession(probe) as session:
        row = await session.get(model, row_id)
        return row if row is not None and row.status in ("done", "failed") else None


async def healthy(api: AsyncTestClient) -> bool:
    return (await api.get("/health")).status_code == 200


async def close_of_business(api: AsyncTestClient, people: World, days_ago: int) -> dict:
    business_date = today(api.app.state.settings) - timedelta(days=days_ago)
    response = await api.post(
        "/api/v1/jobs",
        json={"kind": "close_of_business", "business_date": business_date.isoformat()},
        headers=people["county"],
    )
    assert response.status_code == 202, response.text
    return response.json()


async def test_with_valkey_down_requests_are_accepted_and_run_once_it_is_back(
    own_servers, api, people, probe, workers
):
    worker = workers()
    await until(lambda: healthy(api), "the worker's first beat")
    own_servers.valkey.stop()
    try:
        job = await close_of_business(api, people, days_ago=3)
        upload = await api.post(
            "/api/v1/imports/repayments",
            files={"data": ("repayments.csv", BANK_FILE, "text/csv")},
            headers=people["bank"],
        )
        assert upload.status_code == 202, upload.text
        batch = upload.json()
        down = await api.get("/health")
        assert down.status_code == 503 and down.json()["redis"].startswith("error")
        await asyncio.sleep(2)
        assert worker.poll() is None, "the worker exited when Redis went away"
        assert (await entry(probe, job["id"])).status == "pending"
    finally:
        own_servers.valkey.start()
    done_job = await until(lambda: finished(probe, Job, job["id"]), "the close of business")
    done_import = await until(lambda: finished(probe, RepaymentImport, batch["id"]), "the import")
    assert (done_job.status, done_job.attempts) == ("done", 1), done_job.error
    assert (done_import.status, done_import.rejected) == ("done", 1), done_import.error
    for row_id in (job["id"], batch["id"]):
        handed = await entry(probe, row_id)
        assert (handed.status, handed.attempts, handed.handover) == ("done", 1, 1)
    assert worker.poll() is None
    assert await until(lambda: healthy(api), "health after the outage")


async def test_a_job_accepted_as_postgres_restarts_ends_done(own_servers, api, people, probe, workers):
    worker = workers()
    await until(lambda: healthy(api), "the worker's first beat")
    worker.send_signal(signal.SIGSTOP)  # the job is accepted and handed to Redis before the worker sees it
    try:
        job = await close_of_business(api, people, days_ago=2)
        assert (await entry(probe, job["id"])).status == "enqueued"
        own_servers.postgres.stop()
    finally:
        worker.send_signal(signal.SIGCONT)
    try:
        log = own_servers.root / "worker-0.log"
        await until(lambda: _logged(log, "claim failed"), "the worker to meet the stopped database")
    finally:
        own_servers.postgres.start()
    done = await until(lambda: finished(probe, Job, job["id"]), "the close of business")
    assert (done.status, done.attempts, done.error) == ("done", 1, None)
    assert (await entry(probe, job["id"])).status == "done"


def _logged(log: Path, words: str) -> bool:
    return words in log.read_text(errors="replace")


async def test_a_job_whose_worker_is_killed_mid_way_is_run_again_by_another(
    own_servers, api, people, probe, workers
):
    first = workers()
    await until(lambda: healthy(api), "the first worker's beat")
    async with probe.connect() as blocker:
        # close of business waits on this lock: the first worker is mid-job when it is killed
        await blocker.execute(text("LOCK TABLE business_day IN ACCESS EXCLUSIVE MODE"))
        job = await close_of_business(api, people, days_ago=1)
        running = await until(lambda: _with_status(probe, job["id"], "running"), "the first worker's claim")
        first.kill()
        first.wait()
        await blocker.rollback()
    # the killed worker's connections end once PostgreSQL writes to them: then its close-of-business lock is free
    await until(lambda: _no_advisory_locks(probe), "the dead worker's connections to end")
    workers()
    done = await until(lambda: finished(probe, Job, job["id"]), "the job run again")
    again = await entry(probe, job["id"])
    assert done.status == "done", done.error
    assert (again.status, again.handover, again.attempts) == ("done", 2, 2)
    assert again.worker_id != running.worker_id
    async with probe.connect() as connection:
        dates = list(await connection.scalars(text("SELECT business_date FROM business_day")))
    assert len(dates) == len(set(dates))


async def _with_status(probe: AsyncEngine, row_id: str, status: str) -> OutboxTask | None:
    found = await entry(probe, row_id)
    return found if found is not None and found.status == status else None


async def _no_advisory_locks(probe: AsyncEngine) -> bool:
    async with probe.connect() as connection:
        return not await connection.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"))


async def test_the_first_request_after_postgres_restarts_answers_503_then_the_api_works(
    own_servers, api, people
):
    signed_in = {"Cookie": f"{SESSION_COOKIE}={people['county']['Authorization'].removeprefix('Bearer ')}"}
    assert (await api.get("/api/v1/loans", headers=people["county"])).status_code == 200
    assert (await api.get("/loans", headers=signed_in)).status_code == 200
    own_servers.postgres.stop()
    try:
        down = await api.get("/api/v1/loans", headers=people["county"])
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"] == "1" and "数据库" in down.json()["detail_zh"]
        # A page says so in Chinese, in the web's layout, with a link to try again.
        page = await api.get("/loans?status=overdue", headers=signed_in)
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html"), page.text
        assert page.headers["retry-after"] == "1"
        assert '<html lang="zh-CN"' in page.text and "数据库暂时不可用" in page.text
        assert '<a href="/loans?status=overdue">重试</a>' in page.text
    finally:
        own_servers.postgres.start()
    first = await api.get("/api/v1/loans", headers=people["county"])
    assert first.status_code in (200, 503), first.text
    assert (await api.get("/api/v1/loans", headers=people["county"])).status_code == 200
