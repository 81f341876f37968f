"""Deployment settings, read from the environment (prefix-free names as the README documents)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr
from pydantic_settings import BaseSettings, SettingsConfigDict

from loans.core.clock import Clock, SystemClock


def cores() -> int:
    """This machine's CPU count (at least 1): the lanes' and the report readers' default, for a database on the
    same machine."""
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    data_dir: Path = Field(default=Path(".data"), validation_alias="LOANS_DATA_DIR")
    secret_key: str | None = Field(default=None, validation_alias="LOANS_SECRET_KEY")
    token_ttl_minutes: int = Field(default=8 * 60, validation_alias="LOANS_TOKEN_TTL_MINUTES")
    admin_password: str | None = Field(default=None, validation_alias="LOANS_ADMIN_PASSWORD")
    timezone: str = Field(default="Asia/Shanghai", validation_alias="LOANS_TIMEZONE")
    applicant_min_age: int = Field(default=18, validation_alias="LOANS_APPLICANT_MIN_AGE")
    applicant_max_age: int = Field(default=60, validation_alias="LOANS_APPLICANT_MAX_AGE")
    # Per API process. No overflow: SQLAlchemy closes an overflow connection when it is returned, so under load
    # every burst would open (and PostgreSQL fork) new connections and prepare every statement again.
    db_pool_size: int = Field(default=10, validation_alias="LOANS_DB_POOL_SIZE")
    db_max_overflow: int = Field(default=0, validation_alias="LOANS_DB_MAX_OVERFLOW")
    sql_echo: bool = Field(default=False, validation_alias="LOANS_SQL_ECHO")
    # A worker writes its heartbeat this often; one silent for worker_dead_after is taken for dead: /health fails
    # and its running jobs are handed to another worker. The dispatcher hands queued rows over this often.
    worker_heartbeat_seconds: float = Field(default=10, validation_alias="LOANS_WORKER_HEARTBEAT_SECONDS")
    worker_dead_after_seconds: float = Field(default=60, validation_alias="LOANS_WORKER_DEAD_AFTER_SECONDS")
    dispatch_seconds: float = Field(default=5, validation_alias="LOANS_DISPATCH_SECONDS")
    # Set-wise work (close of business's id ranges, a bank file's batches) goes this many parts at a time, each on
    # a session of its own: PostgreSQL runs a statement on one core, so lanes beyond its cores only queue.
    lanes: int = Field(default_factory=cores, ge=1, validation_alias="LOANS_LANES")
    # A report's tables are copied out over this many connections at once (PostgreSQL formats each COPY on one
    # core), each with this work_mem: 256MB keeps a province's per-loan sums (~1M groups) in one in-memory hash
    # table instead of spilling to disk (the server's default is 4MB).
    report_readers: int = Field(default_factory=cores, ge=1, validation_alias="LOANS_REPORT_READERS")
    report_work_mem: str = Field(
        default="256MB", pattern=r"^[1-9][0-9]*(kB|MB|GB)$", validation_alias="LOANS_REPORT_WORK_MEM"
    )

    # Not from the environment: a deployment runs on the system clock; tests and rehearsals pass their own.
    _clock: Clock = PrivateAttr(default_factory=SystemClock)

    @property
    def clock(self) -> Clock:
        return self._clock

    def with_clock(self, clock: Clock) -> Settings:
        """These settings on another clock (the copy shares everything else)."""
        copy = self.model_copy()
        copy._clock = clock
        return copy

    @property
    def async_database_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set and no embedded PostgreSQL was started")
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
