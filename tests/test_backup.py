"""`loans db backup` and `loans db restore`, for real: the test database backed up with the embedded PostgreSQL's
pg_dump and restored into an empty data dir gives back the same `loans check` sums."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loans.cli import app
from loans.cob.service import close_of_business
from loans.settings import get_settings
from tests.support.http import expect
from tests.support.journeys import disbursed_loan
from tests.support.world import LANES

LOAN = {"amount": "12000.00", "rate": "0.06", "term_months": 12, "method": "equal_principal"}


@pytest.fixture
def scratch() -> Iterator[Path]:
    """Outside pytest's temporary folders, which a parallel pytest session may close (mode 700) or remove."""
    root = Path(tempfile.mkdtemp(prefix="jinguo-backup-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


async def loans_cli(*args: str) -> tuple[int, str]:
    """A `loans` command in a thread of its own (commands run their own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args))
    get_settings.cache_clear()
    failure = (
        "" if result.exception is None or isinstance(result.exception, SystemExit) else repr(result.exception)
    )
    return result.exit_code, result.output + failure


def totals(check_output: str) -> list[str]:
    return [line for line in check_output.splitlines() if ": " in line and "agree" not in line]


async def test_a_backup_restored_into_an_empty_data_dir_gives_the_same_check_sums(
    client, world, engine, servers, scratch, monkeypatch
):
    loan = await disbursed_loan(client, world, contract_no="BACKUP-1", disbursed_on=date(2026, 1, 15), **LOAN)
    expect(
        await client.post(
            f"/api/v1/loans/{loan['loan_id']}/repayments",
            json={"amount": "1060.00", "paid_on": "2026-02-15", "bank_txn_ref": "BACKUP-R1"},
            headers=world["bank"],
        ),
        201,
    )
    await close_of_business(
        engine, date(2026, 4, 20), date.today(), lanes=LANES
    )  # March and April owed: penalty accrues
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    monkeypatch.setenv("REDIS_URL", servers.redis_url)
    code, original = await loans_cli("check")
    assert code == 0 and "loans: 1" in original and "repaid: 1060.00" in original, original
    assert "penalty_accrued: 0.00" not in totals(original)
    backup = scratch / "jinguo.dump"
    code, output = await loans_cli("db", "backup", str(backup))
    assert code == 0 and backup.stat().st_size > 0, output

    monkeypatch.delenv("DATABASE_URL")  # from here on: the embedded servers of an empty data dir
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.delenv("LOANS_DATA_DIR", raising=False)
    data_dir = scratch / "restored"
    code, output = await loans_cli("db", "restore", str(backup), "--data-dir", str(data_dir))
    assert code == 0, output
    code, restored = await loans_cli("check", "--data-dir", str(data_dir))
    assert code == 0, restored
    assert totals(restored) == totals(original) and len(totals(original)) == 9

    code, refused = await loans_cli("db", "restore", str(backup), "--data-dir", str(data_dir))
    assert code == 1 and "not empty" in refused
    code, output = await loans_cli("db", "restore", str(backup), "--data-dir", str(data_dir), "--replace")
    assert code == 0, output
    code, replaced = await loans_cli("check", "--data-dir", str(data_dir))
    assert totals(replaced) == totals(original)
