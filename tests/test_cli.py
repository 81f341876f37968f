"""The `loans` command line against the test database (DATABASE_URL/REDIS_URL set: nothing embedded starts)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from typer.testing import CliRunner

from loans.cli import app
from loans.core.clock import today
from loans.settings import get_settings
from tests.support.ids import female_id
from tests.support.loan_book import HEADER, book_line
from tests.support.world import COUNTY, TOWNSHIP


@pytest.fixture
def cli(servers, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    monkeypatch.setenv("REDIS_URL", servers.redis_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_schedule_calculator_needs_no_database():
    def schedule(amount: str):
        terms = [
            "--rate",
            "0.06",
            "--term",
            "12",
            "--method",
            "equal_principal",
            "--disbursed-on",
            "2026-01-15",
        ]
        return CliRunner().invoke(app, ["schedule", "--amount", amount, *terms])

    result = schedule("12000")
    assert result.exit_code == 0, result.output
    # 12000.00 over 12 months: 1000.00 a month; interest 60.00, 55.00, … 5.00 → 390.00 in all
    assert "2026-02-15" in result.output and "1000.00" in result.output and "12390.00" in result.output
    bad = schedule("12000.001")
    assert bad.exit_code == 2


def test_users_create_cob_and_report(cli, world):
    create = ["users", "create", "--username", "cli_staff", "--password", "a-long-password"]
    create += ["--role", "township_staff", "--region", TOWNSHIP]
    created = cli.invoke(app, create)
    assert created.exit_code == 0 and "created cli_staff" in created.output, created.output
    again = cli.invoke(app, create)
    assert again.exit_code == 1 and "taken" in again.output
    for day in (date.today() + timedelta(days=2), today(get_settings())):
        refused = cli.invoke(app, ["cob", "--date", day.isoformat()])
        assert refused.exit_code == 2 and "not over yet" in refused.output, refused.output
    report = cli.invoke(app, ["report", "repayment-rate", "--county", COUNTY, "--as-of", "2026-05-31"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["total"]["principal_due"] == "0.00"
    checked = cli.invoke(app, ["check"])
    assert checked.exit_code == 0 and "agree" in checked.output, checked.output
    clustered = cli.invoke(app, ["cluster"])
    assert clustered.exit_code == 0 and "loan: rewritten in county order" in clustered.output, (
        clustered.output
    )


def test_import_book_takes_in_a_loan_book_as_a_user(cli, world, tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        HEADER
        + "\n"
        + book_line("CLI-1", female_id(), world.fund_id)
        + "\n"
        + book_line("CLI-2", "123", "")
        + "\n",
        encoding="gbk",
    )
    imported = cli.invoke(app, ["import-book", str(book), "--user", "bank"])
    assert imported.exit_code == 0, imported.output
    assert "2 rows, 1 created, 0 duplicates, 1 rejected" in imported.output
    assert "national_id" in imported.output and "CLI-2" in imported.output
    again = cli.invoke(app, ["import-book", str(book), "--user", "bank"])
    assert "0 created, 1 duplicates, 1 rejected" in again.output
    nobody = cli.invoke(app, ["import-book", str(book), "--user", "nobody"])
    assert nobody.exit_code == 2 and "nobody" in nobody.output
    refused = cli.invoke(app, ["import-book", str(book), "--user", "township"])
    assert refused.exit_code == 2
