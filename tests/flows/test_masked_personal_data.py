"""A masked ID never comes with what it hides (SPEC section 1): the reports in every format list borrowers by the
masked number - no full number, no birth date (the eight digits the mask hides), no phone - whoever asks, and
the reminders show the phone only where the full ID would be shown."""

from __future__ import annotations

import io
from datetime import date
from uuid import UUID

import polars as pl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from loans.reminders.outbox import write_reminders
from tests.support.http import expect
from tests.support.journeys import SMALL_LOAN, disbursed_loan

PHONE = "13909350001"  # the flow helper's applicant phone


async def borrowers(client, world) -> list[str]:
    """Two overdue borrowers, listed by the reports; their full numbers as their township sees them."""
    for contract_no in ("MASK-A", "MASK-B"):
        await disbursed_loan(client, world, contract_no=contract_no, **SMALL_LOAN)
    page = expect(await client.get("/api/v1/applicants", headers=world["township"]), 200)
    return [a["national_id"] for a in page["items"]]


def hidden_parts(national_ids: list[str]) -> list[str]:
    """What must never appear next to a masked number: the number, its birth date in either spelling, the phone."""
    parts = [PHONE]
    for number in national_ids:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        parts += [number, f"{birth:%Y%m%d}", birth.isoformat()]
    return parts


def workbook_text(content: bytes) -> str:
    sheets = pl.read_excel(io.BytesIO(content), sheet_id=0)
    return "\n".join(
        ",".join(sheet.columns) + "\n" + sheet.select(pl.all().cast(pl.String)).write_csv()
        for sheet in sheets.values()
    )


REPORTS = [
    "county-risk?as_of=2026-05-31&format={fmt}",
    "repayment-rate?as_of=2026-05-31&format={fmt}",
    "portfolio-at-risk?as_of=2026-05-31&format={fmt}",
    "subsidy?from=2026-01-01&to=2026-05-31&format={fmt}",
    "beneficiaries?from=2026-01-01&to=2026-05-31&group_by=township&format={fmt}",
]


@pytest.mark.parametrize("user", ["county", "bank", "township"])
async def test_reports_in_every_format_carry_the_masked_number_only(client, world, user):
    national_ids = await borrowers(client, world)
    hidden = hidden_parts(national_ids)
    masked = {number[:6] + "********" + number[-4:] for number in national_ids}
    for report in REPORTS:
        formats = ("json", "xlsx", "html") if report.startswith("county-risk") else ("json", "csv", "xlsx")
        for fmt in formats:
            response = await client.get(f"/api/v1/reports/{report.format(fmt=fmt)}", headers=world[user])
            assert response.status_code == 200, (report, fmt, response.text)
            body = workbook_text(response.content) if fmt == "xlsx" else response.text
            assert "birth_date" not in body and "出生日期" not in body, (report, fmt)
            leaked = [part for part in hidden if part in body]
            assert leaked == [], (user, report, fmt, leaked)
            if (
                report.startswith(("county-risk", "repayment-rate")) and fmt != "csv"
            ):  # they list the borrowers
                assert all(number in body for number in masked), (user, report, fmt)


async def test_reminders_show_the_phone_where_the_full_id_would_be_shown(client, world, engine):
    loan = await disbursed_loan(client, world, contract_no="MASK-R", **SMALL_LOAN)
    async with AsyncSession(engine) as session:  # first due 15 Feb: a week before, its reminder
        await write_reminders(session, date(2026, 2, 8), UUID(loan["loan_id"]), UUID(loan["loan_id"]))
        await session.commit()
    for user, phone in (("township", PHONE), ("bank", PHONE), ("county", None), ("auditor", None)):
        page = expect(await client.get("/api/v1/reminders", headers=world[user]), 200)
        mine = [item for item in page["items"] if item["loan_id"] == loan["loan_id"]]
        assert mine, user
        for item in mine:
            assert (item["phone"], item["phone_masked"]) == (phone, "139****0001"), user
            if phone is None:
                assert PHONE not in str(item)
