"""Reports and the schedule calculator."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from loans.cli.common import DEFAULT_DATA_DIR, DataDir, app, console, on_database
from loans.money import fen_to_str
from loans.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


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

    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.core.actor import Actor
    from loans.core.clock import today
    from loans.core.roles import Role
    from loans.reporting.service import ReportRequest, ReportService

    async def build(engine: AsyncEngine, settings: Settings) -> bytes:
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
        async with AsyncSession(engine) as session:
            return (await ReportService(session, system, settings).build(request)).content

    content = on_database(data_dir, build)
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
    from loans.lending.schedule import LoanTerms, build_schedule, schedule_table_rows
    from loans.money import parse_amount, parse_decimal
    from loans.products.terms import RepaymentMethod

    try:
        terms = LoanTerms(
            principal=parse_amount(amount),
            annual_rate=parse_decimal(rate, 6, 1, example="0.0435"),
            term_months=term,
            method=RepaymentMethod(method),
            disbursed_on=date.fromisoformat(disbursed_on),
            subsidy_share=parse_decimal(subsidy_share, 4, 1, example="0.5"),
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
