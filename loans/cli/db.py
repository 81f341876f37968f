"""The schema (Alembic migrations) and the user accounts."""

from __future__ import annotations

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
