"""The bulk generator (loans.bulk): its schedules are build_schedule's, its repayments are what the
allocation rules give when replayed one at a time, and what it loads is what close of business would leave."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.bulk import BEHAVIOURS, Rng, history, load, plan_loans, reference, schedule_frame
from loans.cob.reconcile import ledger_drift
from loans.lending.delinquency import refresh_loan_range
from loans.lending.schedule import LoanTerms, build_schedule
from loans.money import round_fen
from loans.products.terms import RepaymentMethod
from loans.repayments.allocation import InstallmentState, allocate, apply_allocation
from reports.loader import load_frames
from reports.plan import FrameWants
from reports.queries import ReportScope

SCHEDULE_FIELDS = (
    "seq",
    "period_start",
    "due_date",
    "principal",
    "interest",
    "subsidy_interest",
    "borrower_interest",
)


def expected_schedule(
    principal: int, rate: Decimal, term: int, method: str, disbursed_on: date, share: Decimal
) -> list[tuple]:
    terms = LoanTerms(principal, rate, term, RepaymentMethod(method), disbursed_on, share)
    return [tuple(getattr(i, f) for f in SCHEDULE_FIELDS) for i in build_schedule(terms)]


def test_vectorized_schedule_is_build_schedule() -> None:
    rng = random.Random(3)
    rows = []
    for loan in range(1500):
        method = rng.choice(list(RepaymentMethod))
        term = rng.randint(1, 12) if method == "bullet" else rng.choice([1, 2, 3, 6, 11, 12, 13, 24, 25, 36])
        start = date(rng.randint(2019, 2027), rng.randint(1, 12), 1)
        rows.append(
            {
                "loan": loan,
                "term": term,
                "method": str(method),
                "principal": rng.choice([1, 99, 3_000_000, 12_345_678, 400_000_000, rng.randrange(1, 10**9)]),
                "rate_u": rng.choice([0, 1, 34_500, 43_500, 59_999, rng.randrange(0, 999_999)]),
                "disbursed_on": start + timedelta(days=rng.choice([0, 17, 18, 19, 20, 27, 28, 29, 30])),
                "subsidy_u": rng.choice([0, 5000, 10_000, 3333, rng.randrange(0, 10_001)]),
            }
        )
    got = schedule_frame(pl.DataFrame(rows))
    by_loan = defaultdict(list)
    for row in got.iter_rows(named=True):
        by_loan[row["loan"]].append(tuple(row[f] for f in SCHEDULE_FIELDS))
    for r in rows:
        want = expected_schedule(
            r["principal"],
            Decimal(r["rate_u"]) / 10**6,
            r["term"],
            r["method"],
            r["disbursed_on"],
            Decimal(r["subsidy_u"]) / 10**4,
        )
        assert by_loan[r["loan"]] == want, r


def _accrued(daily: tuple[int, date] | None, due: date, on: date) -> int:
    """Penalty close of business had accrued on an installment when a repayment is posted on ``on``."""
    if daily is None:
        return 0
    amount, last = daily
    return amount * max(0, (min(last, on - timedelta(days=1)) - due).days)


def test_repayments_are_what_the_allocation_rules_give() -> None:
    """Replay every loan's repayments one at a time through allocate(), in the order they were posted: each
    gives the generated allocation; reversed ones are not applied; the end state is the generated one."""
    today = date(2026, 11, 20)
    rng = Rng(11)
    loans = plan_loans(reference(2, today), 600, rng, today)
    assert set(loans["behaviour"]) == set(BEHAVIOURS)
    story = history(loans, rng, today, today - timedelta(days=1))
    terms = {row["loan"]: row for row in loans.iter_rows(named=True)}
    schedules, penalties, lines, repayments = defaultdict(list), {}, defaultdict(list), defaultdict(list)
    for row in story.installments.sort("loan", "seq").iter_rows(named=True):
        schedules[row["loan"]].append(row)
    for row in story.penalties.iter_rows(named=True):
        penalties[(row["loan"], row["seq"])] = row
    for row in story.allocations.iter_rows(named=True):
        lines[row["rep"]].append(
            (
                row["seq"],
                row["penalty"],
                row["interest"],
                row["principal"],
                row["cancelled_interest"],
                row["cancelled_subsidy"],
            )
        )
    for row in story.repayments.sort("created_at").iter_rows(named=True):
        repayments[row["loan"]].append(row)
    reversed_ = set(story.reversals["rep"])
    assert reversed_ and story.penalties.height
    for loan, rows in schedules.items():
        t = terms[loan]
        rate, share = Decimal(t["rate_u"]) / 10**6, Decimal(t["subsidy_u"]) / 10**4
        daily = {}
        for r in rows:
            p = penalties.get((loan, r["seq"]))
            if (
                p is not None
            ):  # what close of business accrues a day (its SQL: round(base × rate × (1 + markup) / 360))
                amount = round_fen(Decimal(p["base"]) * rate * (1 + Decimal(t["markup_u"]) / 10**4) / 360)
                assert (
                    p["amount"] == amount * (p["accrual_date"] - r["due_date"]).days == r["penalty_accrued"]
                )
                daily[r["seq"]] = (amount, p["accrual_date"])
            else:
                assert r["penalty_accrued"] == 0
        states = [InstallmentState(*(r[f] for f in SCHEDULE_FIELDS)) for r in rows]
        for rep in repayments[loan]:
            states = [
                replace(s, penalty_accrued=_accrued(daily.get(s.seq), s.due_date, rep["paid_on"]))
                for s in states
            ]
            allocation = allocate(states, rep["amount"], rep["paid_on"], share)
            assert allocation.settles == rep["settles"], (t["behaviour"], rep)
            assert sorted(lines[rep["rep"]]) == sorted(
                (x.seq, x.penalty, x.interest, x.principal, x.cancelled_interest, x.cancelled_subsidy)
                for x in allocation.lines
            ), (t["behaviour"], rep)
            if rep["rep"] not in reversed_:
                states = apply_allocation(states, allocation, rep["paid_on"])
        for state, row in zip(states, rows, strict=True):
            fields = (
                "paid_principal",
                "paid_interest",
                "paid_penalty",
                "cancelled_interest",
                "cancelled_subsidy",
                "on_time_principal",
            )
            assert tuple(getattr(state, f) for f in fields) == tuple(row[f] for f in fields), (
                t["behaviour"],
                row,
            )


LOAN_STATE = (
    "status",
    "outstanding_principal",
    "days_past_due",
    "bucket",
    "five_class",
    "overdue_principal",
    "penalty_outstanding",
)


async def _state(session: AsyncSession) -> tuple[list, list]:
    loans = (await session.execute(text(f"SELECT id, {', '.join(LOAN_STATE)} FROM loan ORDER BY id"))).all()
    installments = (
        await session.execute(
            text("SELECT loan_id, seq, status, penalty_accrued FROM installment ORDER BY loan_id, seq")
        )
    ).all()
    return loans, installments


async def _scalar(session: AsyncSession, sql: str) -> int:
    return int((await session.execute(text(sql))).scalar_one())


async def test_bulk_load_is_consistent(engine: AsyncEngine, client, world, reading) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    summary = await load(engine, 300, counties=2, seed=5, today=today)
    assert summary.loans == 300 and set(summary.behaviours) == set(BEHAVIOURS)
    # A second load into the same database reuses the reference rows and numbers its contracts after the first.
    await load(engine, 40, counties=3, seed=6, today=today)

    async with AsyncSession(engine) as session:
        for sql in (
            # every loan's schedule adds up to its principal; outstanding is principal less principal repaid
            "SELECT count(*) FROM loan l JOIN (SELECT loan_id, sum(principal) AS p, sum(paid_principal) AS paid "
            "FROM installment GROUP BY loan_id) i ON i.loan_id = l.id "
            "WHERE i.p <> l.principal OR l.outstanding_principal <> l.principal - i.paid",
            # a settled loan owes nothing; a live one owes something
            "SELECT count(*) FROM loan WHERE (status = 'settled') <> (settled_on IS NOT NULL) "
            "OR (status = 'settled' AND outstanding_principal <> 0)",
            # foreign keys (the loader skips the per-row checks): nothing points nowhere
            "SELECT count(*) FROM installment i WHERE NOT EXISTS (SELECT FROM loan l WHERE l.id = i.loan_id)",
            "SELECT count(*) FROM repayment_allocation a WHERE NOT EXISTS (SELECT FROM repayment r "
            "WHERE r.id = a.repayment_id AND r.loan_id = a.loan_id)",
            "SELECT count(*) FROM loan l WHERE NOT EXISTS (SELECT FROM application a WHERE a.id = l.application_id "
            "AND a.applicant_id = l.applicant_id AND a.status = 'disbursed') "
            "OR NOT EXISTS (SELECT FROM guarantee_fund f WHERE f.id = l.guarantee_fund_id "
            "AND f.bank_code = l.bank_code) OR NOT EXISTS (SELECT FROM loan_product p WHERE p.id = l.product_id "
            "AND p.county_code = l.county_code)",
            "SELECT count(*) FROM application_member m WHERE NOT EXISTS (SELECT FROM applicant a "
            "WHERE a.id = m.applicant_id) OR NOT EXISTS (SELECT FROM application a WHERE a.id = m.application_id)",
            "SELECT count(*) FROM applicant a WHERE NOT EXISTS (SELECT FROM region r WHERE r.code = a.village_code "
            "AND r.parent_code = a.township_code)",
        ):
            assert await _scalar(session, sql) == 0, sql
        # the installments' running sums are exactly what the standing allocation lines and penalty ledger add to,
        # and each loan keeps its latest visit (the ledger check compares both)
        assert await ledger_drift(session) == (0, [])
        # every behaviour left its trace
        for sql in (
            "SELECT count(*) FROM repayment_reversal",
            "SELECT count(*) FROM repayment_allocation WHERE penalty > 0",  # paid late
            "SELECT count(*) FROM repayment_allocation WHERE cancelled_interest + cancelled_subsidy > 0",  # prepaid
            "SELECT count(*) FROM installment WHERE status = 'overdue' AND paid_principal + paid_interest > 0",
            "SELECT count(*) FROM loan l WHERE status = 'overdue' AND NOT EXISTS "
            "(SELECT FROM repayment r WHERE r.loan_id = l.id)",  # never paid
            "SELECT count(*) FROM loan WHERE status = 'settled'",
            "SELECT count(*) FROM loan WHERE status = 'active'",
            "SELECT count(*) FROM loan WHERE claimable_since IS NOT NULL",
            "SELECT count(*) FROM follow_up",
            "SELECT count(*) FROM fund_entry WHERE kind = 'deposit'",
        ):
            assert await _scalar(session, sql) > 0, sql

        # the close-of-business state as of today is the one refresh_loan_range computes
        before = await _state(session)
        low = (await session.execute(text("SELECT id FROM loan ORDER BY id LIMIT 1"))).scalar_one()
        high = (await session.execute(text("SELECT id FROM loan ORDER BY id DESC LIMIT 1"))).scalar_one()
        await refresh_loan_range(session, low, high, today)
        assert await _state(session) == before
        await session.rollback()

        sample = (
            await session.execute(
                text(
                    "SELECT id, principal, annual_rate, term_months, repayment_method, disbursed_on, subsidy_share "
                    "FROM loan ORDER BY id LIMIT 25"
                )
            )
        ).all()
        for loan_id, principal, rate, term, method, disbursed_on, share in sample:
            rows = (
                await session.execute(
                    text(
                        f"SELECT {', '.join(SCHEDULE_FIELDS)} FROM installment "
                        "WHERE loan_id = :id ORDER BY seq"
                    ),
                    {"id": loan_id},
                )
            ).all()
            assert [tuple(r) for r in rows] == expected_schedule(
                principal, rate, term, method, disbursed_on, share
            )
        county, in_county = (
            await session.execute(
                text("SELECT county_code, count(*) FROM loan GROUP BY county_code ORDER BY 2 DESC LIMIT 1")
            )
        ).one()

    response = await client.get("/api/v1/loans", params={"limit": 5}, headers=world["admin"])
    assert response.status_code == 200, response.text
    assert response.json()["total"] >= 340
    response = await client.get(
        "/api/v1/loans", params={"region_code": county, "limit": 500}, headers=world["admin"]
    )
    assert response.json()["total"] == in_county
    assert {loan["status"] for loan in response.json()["items"]} <= {"active", "overdue", "settled"}

    # The whole portfolio's loans are read in as many ranges of the table's pages as there are readers: together,
    # every loan once, with the sums it keeps riding along.
    async with AsyncSession(engine) as session:
        pages = await _scalar(session, "SELECT pg_relation_size('loan') / current_setting('block_size')::int")
        by_readers = {
            readers: await load_frames(
                session,
                ReportScope(),
                today,
                FrameWants(frozenset({"loans"}), due_totals="loan"),
                reading=replace(reading, readers=readers),
            )
            for readers in (1, 2, 3)
        }
        ids = sorted(
            (
                await session.execute(
                    text("SELECT id::text FROM loan WHERE disbursed_on <= :day"), {"day": today}
                )
            ).scalars()
        )
        due_installments = await _scalar(session, "SELECT sum(due_installments) FROM loan")
    assert pages >= 4
    for readers, frames in by_readers.items():
        assert sorted(frames.loans["loan_id"]) == ids, readers
        assert (
            frames.due_totals is not None
            and frames.due_totals.frame["installment_count"].sum() >= due_installments
        ), readers
