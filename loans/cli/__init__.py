"""The `loans` command line: run everything locally, migrate, create users, load demo data, close the books,
check the ledgers, report, calculate schedules. One module per group of commands; each registers its commands on
the one Typer `app` (`common`), in the order `loans --help` lists them."""

from loans.cli import run  # noqa: F401 - first: the commands that run the service

# isort: split
from loans.cli import data, db, reports  # noqa: F401
from loans.cli.common import app

__all__ = ["app"]
