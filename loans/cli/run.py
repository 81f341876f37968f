"""Running the service: everything locally (`dev`), or the API or the worker alone."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.table import Table

from loans.cli.common import DEFAULT_DATA_DIR, DataDir, app, bootstrap, console, local_services, migrate
from loans.settings import Settings


def _print_banner(host: str, port: int, settings: Settings, admin_password: str | None, summary) -> None:
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    table = Table(title="Jinguo Loans 巾帼贷款 is running", show_header=False)
    table.add_row("Web 网页", f"{base}/")
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
    """Run the whole service locally: PostgreSQL, Redis (Valkey), migrations, demo data, API and worker.

    The worker is restarted whenever it exits; SIGTERM, SIGINT or SIGHUP stops the API, the worker, Valkey and
    PostgreSQL, in that order."""
    from loans.cli.supervise import Child, Supervisor, stop_requested

    with stop_requested() as stop, local_services(data_dir) as settings:
        migrate(settings)
        admin_password, summary = asyncio.run(bootstrap(settings, with_demo=not no_demo))
        loans_cli = [sys.executable, "-m", "loans.cli"]
        supervisor = Supervisor(
            [
                Child("worker", [*loans_cli, "worker"], restart=True),
                Child(
                    "API", [*loans_cli, "serve", "--host", host, "--port", str(port), "--access-log"], False
                ),
            ],
            log=lambda line: console.print(f"[yellow]{line}[/yellow]"),
        )
        _print_banner(host, port, settings, admin_password, summary)
        code = 0 if stop.is_set() else supervisor.run(stop)
    if code:
        raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="API processes (each with its own connection pool)")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
) -> None:
    """Run only the API against DATABASE_URL and REDIS_URL (production style)."""
    import uvicorn

    uvicorn.run(
        "loans.server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
    )


@app.command()
def worker() -> None:
    """Run the arq worker against DATABASE_URL and REDIS_URL; it waits out a Redis outage."""
    from arq.worker import get_kwargs

    from loans.outbox.worker import ResilientWorker
    from workers.settings import WorkerSettings

    ResilientWorker(**get_kwargs(WorkerSettings)).run()
