from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from loans.applicants.models import Applicant
from loans.applicants.service import applicant_matches
from loans.core.actor import Actor
from loans.core.db import fresh, locked
from loans.core.errors import NotFound
from loans.lending.delinquency import keep_due_figures
from loans.lending.models import Loan, LoanInstallment
from loans.lending.schedule import LoanTerms, build_schedule, maturity_date
from loans.lending.visit_cadence import VISIT_EVERY_DAYS, VISITED_STATUSES
from loans.products.models import LoanProduct
from loans.products.terms import RepaymentMethod


class ApprovedApplication(Protocol):
    """What a loan is opened from: an application as the bank approved it (loans/applications, which
    disburses it and so depends on lending, not the other way)."""

    id: UUID
    applicant_id: UUID
    bank_code: str | None
    guarantee_fund_id: UUID | None
    county_code: str
    township_code: str
    village_code: str
    project_type: str
    jobs_expected: int
    approved_rate: Decimal | None
    approved_term_months: int | None
    approved_method: str | None


@dataclass(frozen=True, slots=True)
class SigningTerms:
    contract_no: str
    bank_txn_ref: str
    disbursed_on: date
    principal: int


def loan_matches(q: str) -> ColumnElement[bool]:
    """The loan list's search box: a contract number, or the borrower as the applicants' search box finds her."""
    return (Loan.contract_no == q.strip()) | Loan.applicant_id.in_(
        select(Applicant.id).where(applicant_matches(q))
    )


@dataclass
class LoanService:
    session: AsyncSession
    actor: Actor

    async def open_loan(
        self, application: ApprovedApplication, product: LoanProduct, signing: SigningTerms
    ) -> Loan:
        """Create the loan with the terms it is signed under, and freeze its repayment schedule."""
        assert application.approved_rate is not None and application.approved_term_months is not None
        method = RepaymentMethod(application.approved_method)
        terms = LoanTerms(
            principal=signing.principal,
            annual_rate=Decimal(application.approved_rate),
            term_months=application.approved_term_months,
            method=method,
            disbursed_on=signing.disbursed_on,
            subsidy_share=Decimal(product.subsidy_share),
        )
        schedule = build_schedule(terms)
        loan = Loan(
            application_id=application.id,
            applicant_id=application.applicant_id,
            product_id=product.id,
            bank_code=application.bank_code,
            guarantee_fund_id=application.guarantee_fund_id,
            county_code=application.county_code,
            township_code=application.township_code,
            village_code=application.village_code,
            contract_no=signing.contract_no,
            bank_txn_ref=signing.bank_txn_ref,
            disbursed_on=signing.disbursed_on,
            principal=signing.principal,
            annual_rate=terms.annual_rate,
            term_months=terms.term_months,
            repayment_method=method,
            subsidy_share=terms.subsidy_share,
            penalty_markup=product.penalty_markup,
            guarantee_mode=product.guarantee_mode,
            maturity_date=maturity_date(signing.disbursed_on, terms.term_months),
            project_type=application.project_type,
            jobs_expected=application.jobs_expected,
            status="active",
            outstanding_principal=signing.principal,
            days_past_due=0,
            bucket="current",
            five_class="normal",
            overdue_principal=0,
            penalty_outstanding=0,
            compensated_amount=0,
            recovered_amount=0,
        )
        self.session.add(loan)
        await self.session.flush()
        await self.session.execute(
            insert(LoanInstallment),
            [
                {
                    "loan_id": loan.id,
                    "seq": row.seq,
                    "period_start": row.period_start,
                    "due_date": row.due_date,
                    "principal": row.principal,
                    "interest": row.interest,
                    "subsidy_interest": row.subsidy_interest,
                    "borrower_interest": row.borrower_interest,
                    "paid_principal": 0,
                    "paid_interest": 0,
                    "paid_penalty": 0,
                    "penalty_accrued": 0,
                    "cancelled_interest": 0,
                    "cancelled_subsidy": 0,
                    "on_time_principal": 0,
                    "status": "pending",
                }
                for row in schedule
            ],
        )
        # A disbursement dated far enough back has installments due by the last closed date.
        for name, value in (await keep_due_figures(self.session, loan.id)).items():
            set_committed_value(loan, name, value)
        return loan

    async def get(self, loan_id: UUID, *, for_update: bool = False) -> Loan:
        """The loan if it is in the caller's scope (else 404); with ``for_update``, row-locked and reloaded."""
        query = select(Loan).where(Loan.id == loan_id, self.actor.scope_filter(Loan))
        loan = await self.session.scalar(locked(query) if for_update else query)
        if loan is None:
            raise NotFound("loan", "贷款", loan_id)
        return loan

    async def installments(self, loan_id: UUID) -> list[LoanInstallment]:
        query = fresh(
            select(LoanInstallment).where(LoanInstallment.loan_id == loan_id).order_by(LoanInstallment.seq)
        )
        return list(await self.session.scalars(query))

    async def search(
        self, found: LoanFilter, *, order: str = "newest", limit: int, offset: int
    ) -> tuple[list[Loan], int]:
        """Loans in scope that ``found`` asks for, newest disbursement first or by ``order`` (LOAN_ORDERS)."""
        loans = await self.session.scalars(
            select(Loan)
            .where(*self._conditions(found))
            .order_by(*LOAN_ORDERS[order])
            .limit(limit)
            .offset(offset)
        )
        return list(loans), await self.count(found)

    async def count(self, found: LoanFilter) -> int:
        """How many loans in scope ``search`` would find (one count: a work queue's figure is its list's total)."""
        conditions = self._conditions(found)
        return int(await self.session.scalar(select(func.count()).select_from(Loan).where(*conditions)) or 0)

    def _conditions(self, found: LoanFilter) -> list[ColumnElement[bool]]:
        conditions = [self.actor.scope_filter(Loan)]
        if found.status:
            conditions.append(Loan.status == found.status)
        if found.bank_code:
            conditions.append(Loan.bank_code == found.bank_code)
        if found.bucket:
            conditions.append(Loan.bucket == found.bucket)
        if found.region_code:
            conditions.append(
                (Loan.county_code == found.region_code)
                | (Loan.township_code == found.region_code)
                | (Loan.village_code == found.region_code)
            )
        if found.q:
            conditions.append(loan_matches(found.q))
        if found.needs_visit_by:
            # past its visiting period on that day: next_visit_by(...) < needs_visit_by
            conditions += [
                Loan.status.in_(VISITED_STATUSES),
                func.coalesce(Loan.last_visit_on, Loan.disbursed_on)
                < found.needs_visit_by - timedelta(days=VISIT_EVERY_DAYS),
            ]
        if found.claimable:
            # what CompensationService.compensate accepts: a fund's loan overdue past the fund's days
            conditions += [
                Loan.status == "overdue",
                Loan.claimable_since.is_not(None),
                Loan.guarantee_fund_id.is_not(None),
            ]
        return conditions

    async def buckets(self) -> list[BucketFigures]:
        """逾期台账's head: the loans in scope still being repaid, by delinquency bucket (one grouped read)."""
        rows = await self.session.execute(
            select(Loan.bucket, func.count(), func.sum(Loan.outstanding_principal))
            .where(self.actor.scope_filter(Loan), Loan.status.in_(("active", "overdue")))
            .group_by(Loan.bucket)
        )
        found = {bucket: BucketFigures(bucket, count, int(amount or 0)) for bucket, count, amount in rows}
        return [found.get(bucket, BucketFigures(bucket, 0, 0)) for bucket in BUCKETS]

    async def due_by(self, day: date, *, limit: int, offset: int) -> tuple[list[DueInstallment], int]:
        """还款登记's list: installments due on or before ``day`` that the borrower still owes, oldest first."""
        owed = (
            (LoanInstallment.principal - LoanInstallment.paid_principal)
            + (
                LoanInstallment.borrower_interest
                - LoanInstallment.cancelled_interest
                - LoanInstallment.paid_interest
            )
            + (LoanInstallment.penalty_accrued - LoanInstallment.paid_penalty)
        )
        conditions = [
            self.actor.scope_filter(Loan),
            Loan.status.in_(("active", "overdue")),
            LoanInstallment.due_date <= day,
            owed > 0,
        ]
        joined = select(LoanInstallment).join(Loan, Loan.id == LoanInstallment.loan_id)
        total = await self.session.scalar(
            select(func.count()).select_from(joined.where(*conditions).subquery())
        )
        rows = await self.session.execute(
            select(Loan, LoanInstallment.seq, LoanInstallment.due_date, owed)
            .join(LoanInstallment, LoanInstallment.loan_id == Loan.id)
            .where(*conditions)
            .order_by(LoanInstallment.due_date, Loan.contract_no, LoanInstallment.seq)
            .limit(limit)
            .offset(offset)
        )
        return [DueInstallment(loan, seq, due, int(amount)) for loan, seq, due, amount in rows], int(
            total or 0
        )

    async def count_by_status(self, statuses: Collection[str]) -> dict[str, int]:
        """How many loans in scope are in each of ``statuses`` (one grouped count, reading only those loans)."""
        rows = await self.session.execute(
            select(Loan.status, func.count())
            .where(self.actor.scope_filter(Loan), Loan.status.in_(list(statuses)))
            .group_by(Loan.status)
        )
        return {status: count for status, count in rows}

    async def for_applicant(self, applicant_id: UUID) -> list[Loan]:
        """The loans she leads, in scope, newest first."""
        query = (
            select(Loan)
            .where(Loan.applicant_id == applicant_id, self.actor.scope_filter(Loan))
            .order_by(Loan.disbursed_on.desc())
        )
        return list(await self.session.scalars(query))

    async def count_for_applicant(self, applicant_id: UUID) -> tuple[int, int]:
        """(loans ever disbursed to her, of which not yet settled)."""
        total, unsettled = (
            await self.session.execute(
                select(func.count(), func.count().filter(Loan.status != "settled")).where(
                    Loan.applicant_id == applicant_id
                )
            )
        ).one()
        return int(total), int(unsettled)


BUCKETS = ("current", "1-30", "31-90", "91-180", "181+")


@dataclass(frozen=True, slots=True)
class LoanFilter:
    """What a loan list asks for, beside the caller's scope. ``q``: a contract number or the applicants' search
    box; ``needs_visit_by``: loans past their visiting period on that day (loans.lending.visit_cadence);
    ``claimable``: overdue loans the guarantee fund may compensate now."""

    status: str | None = None
    region_code: str | None = None
    bank_code: str | None = None
    bucket: str | None = None
    q: str | None = None
    needs_visit_by: date | None = None
    claimable: bool = False


# Each list's order, the id last so that pages never overlap.
LOAN_ORDERS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "newest": (Loan.disbursed_on.desc(), Loan.id),
    "most_overdue": (Loan.days_past_due.desc(), Loan.id),
    "longest_unvisited": (func.coalesce(Loan.last_visit_on, Loan.disbursed_on), Loan.id),
    "claimable_first": (Loan.claimable_since, Loan.id),
}


@dataclass(frozen=True, slots=True)
class BucketFigures:
    bucket: str
    loans: int
    outstanding_principal: int


@dataclass(frozen=True, slots=True)
class DueInstallment:
    loan: Loan
    seq: int
    due_date: date
    owed: int


@dataclass(frozen=True, slots=True)
class LoanBalances:
    outstanding_interest: int = 0
    outstanding_penalty: int = 0
    next_due_date: date | None = None
    next_due_amount: int | None = None
    # what she owes on installments close of business has marked past due: principal, her interest, penalty
    overdue_amount: int = 0


async def balances_for(session: AsyncSession, loan_ids: list[UUID]) -> dict[UUID, LoanBalances]:
    """What the borrower still owes on each loan, and her next installment, for a page of loans, in one query."""
    i = LoanInstallment
    interest_left = i.borrower_interest - i.cancelled_interest - i.paid_interest
    penalty_left = i.penalty_accrued - i.paid_penalty
    amount_left = i.principal - i.paid_principal + interest_left + penalty_left
    open_row = amount_left > 0
    rows = await session.execute(
        select(
            i.loan_id,
            func.sum(interest_left),
            func.sum(penalty_left),
            func.min(i.due_date).filter(open_row),
            func.array_agg(aggregate_order_by(amount_left, i.seq)).filter(open_row),
            func.sum(amount_left).filter(i.status == "overdue"),
        )
        .where(i.loan_id.in_(loan_ids))
        .group_by(i.loan_id)
    )
    result = {}
    for loan_id, interest, penalty, next_due, open_amounts, overdue in rows:
        result[loan_id] = LoanBalances(
            outstanding_interest=int(interest or 0),
            outstanding_penalty=int(penalty or 0),
            next_due_date=next_due,
            next_due_amount=int(open_amounts[0]) if open_amounts else None,
            overdue_amount=int(overdue or 0),
        )
    return result
