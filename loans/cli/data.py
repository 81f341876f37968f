"""The data: demo and generated portfolios, close of business, the ledger check, the county clustering."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from loans.cli.common import (
    DEFAULT_DATA_DIR,
    DataDir,
    app,
    bootstrap,
    console,
    local_services,
    migrate,
    on_database,
)
from loans.money import fen_to_str
from loans.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


@app.command("demo-data")
def demo_data(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    loans: Annotated[
        int | None,
        typer.Option(
            "--loans",
            min=1,
            help="Instead of the demo county, COPY this many "
            "generated loans with their whole history (see loans/bulk/).",
        ),
    ] = None,
    counties: Annotated[
        int, typer.Option("--counties", min=1, help="With --loans: counties to spread over.")
    ] = 10,
    seed: Annotated[
        int, typer.Option("--seed", help="With --loans: the data set is a function of the seed.")
    ] = 2026,
) -> None:
    """Load the demo county (idempotent), or with --loans N a large generated portfolio (adds N loans a run)."""
    with local_services(data_dir) as settings:
        migrate(settings)
        if loans is None:
            _, summary = asyncio.run(bootstrap(settings, with_demo=True))
            console.print(summary)
            return
        asyncio.run(bootstrap(settings, with_demo=False))

        async def bulk() -> object:
            from sqlalchemy.ext.asyncio import create_async_engine

            from loans.bulk import load
            from loans.core.clock import today

            engine = create_async_engine(settings.async_database_url)
            try:
                return await load(engine, loans, counties, seed, today(settings), progress=console.print)
            finally:
                await engine.dispose()

        summary = asyncio.run(bulk())
    console.print({"rows": summary.rows, "behaviours": summary.behaviours, "seconds": summary.seconds})


@app.command()
def cob(
    business_date: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD (default yesterday)")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run close of business for a date now (missed dates before it are caught up in order)."""
    from loans.cob.service import close_of_business
    from loans.core.clock import today

    async def close(engine: AsyncEngine, settings: Settings) -> list:
        day = date.fromisoformat(business_date) if business_date else today(settings) - timedelta(days=1)
        return await close_of_business(engine, day, today(settings), lanes=settings.lanes)

    days = on_database(data_dir, close)
    table = Table(
        "business date", "loans", "overdue", "penalty accrued", "reminders", title="Close of business"
    )
    for day in days:
        table.add_row(
            str(day.business_date),
            str(day.loans),
            str(day.overdue),
            fen_to_str(day.penalty),
            str(day.reminders),
        )
    console.print(table if days else "nothing to close: the date is already closed")


@app.command("import-book")
def import_book(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The loan book, CSV or XLSX.")],
    user: Annotated[
        str,
        typer.Option("--user", help="The bank liaison or county officer it is imported as (scope, bank)."),
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Take in an existing loan book (the columns of GET /api/v1/imports/loans/template) here and now, as USER
    would upload it, and list the rows not created."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.core.actor import Actor
    from loans.core.clock import today
    from loans.core.errors import InvalidInput
    from loans.core.roles import Role
    from loans.imports.models import ImportRow
    from loans.imports.service import ImportService, process_import
    from loans.users.models import User

    async def run(engine: AsyncEngine, settings: Settings) -> tuple:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            found = await session.scalar(select(User).where(User.username == user, User.is_active))
            if found is None:
                raise InvalidInput("user", f"no active user {user}", f"没有启用的用户 {user}")
            actor = Actor(found.id, found.username, Role(found.role), found.region_code, found.bank_code)
            batch = await ImportService(session, actor).upload_book(file.name, file.read_bytes())
            await session.commit()
            batch = await process_import(session, batch.id, today(settings), settings)
            refused = await session.scalars(
                select(ImportRow)
                .where(ImportRow.import_id == batch.id, ImportRow.outcome != "created")
                .order_by(ImportRow.row_no)
            )
            return batch, list(refused)

    batch, refused = on_database(data_dir, run)
    console.print(
        f"import {batch.id}: {batch.total_rows} rows, {batch.created} created, {batch.duplicates} duplicates, "
        f"{batch.rejected} rejected"
    )
    if refused:
        table = Table("row", "contract", "outcome", "reason", title="Rows not created")
        for row in refused:
            table.add_row(str(row.row_no), row.contract_no or "", row.outcome, row.reason or "")
        console.print(table)


@app.command()
def check(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Print the book's totals, re-sum the penalty and allocation ledgers and list installment figures that
    disagree (exit 1 if any). The totals are what a restored backup must give back."""
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.cob.reconcile import figure_text, ledger_drift, ledger_totals

    async def drift(engine: AsyncEngine, _settings: Settings) -> tuple:
        async with AsyncSession(engine) as session:
            return *(await ledger_drift(session)), await ledger_totals(session)

    found, drifts, totals = on_database(data_dir, drift)
    for line in totals.lines():
        console.print(line)
    if not found:
        console.print("[green]the ledgers and the installments' running sums agree[/green]")
        return
    table = Table(
        "contract", "installment", "figure", "on the installment", "ledger", title=f"{found} figures disagree"
    )
    for drift in drifts:
        table.add_row(
            drift.contract_no,
            str(drift.seq),
            drift.figure,
            figure_text(drift.figure, drift.kept),
            figure_text(drift.figure, drift.ledger),
        )
    console.print(table)
    raise typer.Exit(1)


@app.command()
def cluster(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Rewrite the county-scoped tables in county order now (the worker does it every Sunday at 03:30)."""
    from loans.reporting.locality import cluster_by_county

    seconds = on_database(data_dir, lambda engine, _settings: cluster_by_county(engine))
    for table, taken in seconds.items():
        console.print(f"{table}: rewritten in county order in {taken:.1f} s")
