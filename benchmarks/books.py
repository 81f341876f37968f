"""An existing loan book (100,000 rows by default) for the county with most loans: upload_book + process_import,
against bringing the same kind of loans in through the API's services one at a time, as staff would type them
(register the woman, apply, certify, submit, recommend, approve, disburse: seven transactions a loan)."""

from __future__ import annotations

import io
import random
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from benchmarks.environment import liaison
from loans.applicants.national_id import with_check_char
from loans.applicants.schemas import ApplicantCreate
from loans.applicants.service import ApplicantService
from loans.applications.liaison_scope import bank_applicant_ids
from loans.applications.schemas import (
    ApplicationCreate,
    BankDecision,
    CountyReview,
    Disbursement,
    ProjectIn,
    Submission,
    VillageCertification,
)
from loans.applications.service import ApplicationService
from loans.core.actor import Actor
from loans.core.roles import Role
from loans.imports.book import BOOK_COLUMNS
from loans.imports.service import ImportService, process_import
from loans.settings import Settings

COLUMNS = [
    name for name in BOOK_COLUMNS if name not in ("credit_code", "project_investment", "guarantee_fund")
]
PROJECTS = ("planting", "breeding", "processing", "ecommerce", "handicraft", "services", "agritourism")
ID_REGION = "110101"  # not a prefix the bulk generator gives its women: every row is a new woman


async def county_book(engine: AsyncEngine, rows: int, today: date, seed: int = 11) -> dict[str, Any]:
    """The bank with most loans, its county's villages and the product in effect, and ``rows`` loans of new women
    for them: amounts within the product's cap, its methods, terms up to its maximum, disbursed over the last three
    years."""
    async with engine.connect() as connection:
        bank, county = (
            await connection.execute(
                text(
                    "SELECT bank_code, county_code FROM loan GROUP BY bank_code, county_code "
                    "ORDER BY count(*) DESC LIMIT 1"
                )
            )
        ).one()
        product = (
            await connection.execute(
                text(
                    "SELECT id, code, max_amount_individual, max_term_months, max_annual_rate, repayment_methods, "
                    "effective_from FROM loan_product WHERE county_code = :county AND effective_to IS NULL"
                ),
                {"county": county},
            )
        ).one()
        villages = (
            (
                await connection.execute(
                    text(
                        "SELECT code FROM region WHERE level = 'village' AND code LIKE :prefix ORDER BY code"
                    ),
                    {"prefix": county[:6] + "%"},
                )
            )
            .scalars()
            .all()
        )
        fund_id = (
            await connection.execute(
                text("SELECT id FROM guarantee_fund WHERE county_code = :county AND bank_code = :bank"),
                {"county": county, "bank": bank},
            )
        ).scalar_one()
    rng = random.Random(seed)
    first_day = max(product.effective_from, today - timedelta(days=3 * 365))
    span = (today - first_day).days
    lines = []
    for n in range(rows):
        disbursed_on = first_day + timedelta(days=rng.randrange(span))
        method = rng.choice(product.repayment_methods)
        birth = date(1985, 1, 1) + timedelta(days=n // 500)  # with the sequence below, a number of her own
        lines.append(
            {
                "contract_no": f"BOOK-{bank}-{n:07d}",
                "bank_code": bank,
                "national_id": with_check_char(f"{ID_REGION}{birth:%Y%m%d}{(n % 500) * 2:03d}"),
                "name": "李桂兰",
                "phone": "13909351234",
                "village_code": rng.choice(villages),
                "product_code": product.code,
                "borrower_kind": "individual",
                "amount": f"{rng.randrange(10_000, product.max_amount_individual // 100, 1000)}.00",
                "annual_rate": str(min(Decimal("0.0435"), product.max_annual_rate)),
                "term_months": str(
                    12 if method == "bullet" else rng.choice([12, 24, product.max_term_months])
                ),
                "repayment_method": method,
                "disbursed_on": disbursed_on.isoformat(),
                "bank_txn_ref": f"BOOK-FK-{bank}-{n:07d}",
                "project_type": rng.choice(PROJECTS),
                "project_description": "存量贷款",
                "jobs_expected": str(rng.randint(0, 5)),
            }
        )
    out = io.StringIO()
    out.write(",".join(BOOK_COLUMNS[name][0] for name in COLUMNS) + "\n")
    for line in lines:
        out.write(",".join(line[name] for name in COLUMNS) + "\n")
    return {
        "bank": bank,
        "county": county,
        "fund_id": fund_id,
        "content": out.getvalue().encode(),
        "lines": lines,
    }


async def run(engine: AsyncEngine, today: date, rows: int, baseline_cap: int) -> dict[str, Any]:
    book = await county_book(engine, rows + baseline_cap, today)
    typed = book["lines"][rows:]
    header, *body = book["content"].decode().splitlines()
    content = ("\n".join([header, *body[:rows]]) + "\n").encode()
    actor = await liaison(engine, book["bank"], book["county"])
    async with AsyncSession(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        batch = await ImportService(session, actor).upload_book(f"{book['bank']}-book.csv", content)
        await session.commit()
        uploaded = time.perf_counter() - started
        batch = await process_import(session, batch.id, today, Settings())
        seconds = time.perf_counter() - started
        outcome = {
            "created": batch.created,
            "duplicates": batch.duplicates,
            "rejected": batch.rejected,
            "status": batch.status,
            "error": batch.error,
        }
    async with engine.connect() as connection:
        installments = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM installment i JOIN loan l ON l.id = i.loan_id "
                    "WHERE l.contract_no LIKE 'BOOK-%'"
                )
            )
        ).scalar_one()
    baseline_seconds = await baseline(engine, actor, book["fund_id"], typed, today)
    return {
        "rows": rows,
        "bank": book["bank"],
        "county": book["county"],
        "upload_seconds": uploaded,
        "seconds": seconds,
        **outcome,
        "installments": installments,
        "rows_per_second": rows / seconds,
        "baseline_rows": len(typed),
        "baseline_seconds_measured": baseline_seconds,
        "baseline_seconds": baseline_seconds * rows / len(typed),
    }


async def baseline(
    engine: AsyncEngine, liaison_actor: Actor, fund_id: Any, lines: list[dict[str, str]], today: date
) -> float:
    """Each loan through the services behind the API's seven requests, each step its own transaction and dated the
    book's disbursement date, as staff entering the loan after the fact would."""
    settings = Settings()
    county = liaison_actor.region_code
    township = Actor(liaison_actor.user_id, liaison_actor.username, Role.TOWNSHIP_STAFF, county)
    officer = Actor(liaison_actor.user_id, liaison_actor.username, Role.COUNTY_OFFICER, county)
    async with engine.begin() as connection:  # room in the fund for the typed loans' approvals
        await connection.execute(
            text(
                "INSERT INTO fund_entry (id, fund_id, kind, amount, occurred_on, reference, created_at, updated_at) "
                "VALUES (gen_random_uuid(), :fund, 'deposit', 10000000000000, :day, 'BOOK-BASELINE', now(), now()) "
                "ON CONFLICT DO NOTHING"
            ),
            {"fund": fund_id, "day": today},
        )

    async def step(actor: Actor, work: Any) -> Any:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            result = await work(ApplicationService(session, actor, settings), session)
            await session.commit()
            return result

    started = time.perf_counter()
    for line in lines:
        applicant = await step(
            township,
            lambda _, session, line=line: ApplicantService(
                session, township, settings, bank_applicant_ids
            ).register(
                ApplicantCreate(
                    national_id=line["national_id"],
                    name=line["name"],
                    phone=line["phone"],
                    village_code=line["village_code"],
                ),
                today,
            ),
        )
        application = await step(
            township,
            lambda s, _, line=line, applicant=applicant: s.create(
                ApplicationCreate(
                    applicant_id=applicant.id,
                    product_code=line["product_code"],
                    amount_requested=Decimal(line["amount"]),
                    term_months=int(line["term_months"]),
                    repayment_method=line["repayment_method"],
                    guarantee_fund_id=fund_id,
                    project=ProjectIn(
                        type=line["project_type"],
                        description=line["project_description"],
                        investment=Decimal(0),
                        jobs_expected=int(line["jobs_expected"]),
                    ),
                ),
                today,
            ),
        )
        app_id, on = application.id, date.fromisoformat(line["disbursed_on"])
        certificate = VillageCertification(
            certificate_no=f"C-{line['contract_no']}",
            committee="妇代会",
            issued_on=on,
            residence_confirmed=True,
            credit_good=True,
            project_real=True,
        )
        await step(township, lambda s, _, app_id=app_id, c=certificate: s.certify_village(app_id, c, today))
        await step(
            township, lambda s, _, app_id=app_id, on=on: s.submit(app_id, Submission(submitted_on=on), today)
        )
        await step(
            officer,
            lambda s, _, app_id=app_id, on=on: s.county_review(
                app_id, CountyReview(decision="recommend", opinion="同意推荐", reviewed_on=on), today
            ),
        )
        decision = BankDecision(
            decision="approve",
            amount=Decimal(line["amount"]),
            annual_rate=Decimal(line["annual_rate"]),
            term_months=int(line["term_months"]),
            repayment_method=line["repayment_method"],
            decided_on=on,
        )
        await step(liaison_actor, lambda s, _, app_id=app_id, d=decision: s.bank_decision(app_id, d, today))
        disbursement = Disbursement(
            contract_no=line["contract_no"],
            disbursed_on=on,
            amount=Decimal(line["amount"]),
            bank_txn_ref=line["bank_txn_ref"],
        )
        await step(liaison_actor, lambda s, _, app_id=app_id, d=disbursement: s.disburse(app_id, d, today))
    return time.perf_counter() - started
