"""Database wiring: declarative bases, engine and session configuration."""

from __future__ import annotations

from advanced_alchemy.base import DefaultBase, UUIDv7AuditBase, orm_registry
from advanced_alchemy.extensions.litestar import (
    AlembicAsyncConfig,
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)
from sqlalchemy import Select

from loans.core.pool import FairAsyncQueuePool
from loans.settings import Settings

metadata = orm_registry.metadata

__all__ = ["DefaultBase", "UUIDv7AuditBase", "metadata", "sqlalchemy_config"]


def sqlalchemy_config(settings: Settings) -> SQLAlchemyAsyncConfig:
    return SQLAlchemyAsyncConfig(
        connection_string=settings.async_database_url,
        engine_config=EngineConfig(
            poolclass=FairAsyncQueuePool,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=False,
            echo=settings.sql_echo,
        ),
        # advanced-alchemy's cache and file-object listeners ask the engine for its options at every commit (a
        # new engine object each time); this service uses neither.
        session_config=AsyncSessionConfig(expire_on_commit=False, info={"enable_cache_listener": False}),
        enable_file_object_listener=False,
        before_send_handler="autocommit",
        alembic_config=AlembicAsyncConfig(script_location="migrations"),
        create_all=False,
    )


def fresh(query: Select) -> Select:
    """Reload rows even if the session already holds them: money columns change by set-wise UPDATEs."""
    return query.execution_options(populate_existing=True)


def locked(query: Select) -> Select:
    """SELECT … FOR UPDATE, with the rows reloaded once the lock is held."""
    return fresh(query.with_for_update())
