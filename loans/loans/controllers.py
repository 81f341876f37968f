from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.schemas import Offset, Page
from loans.funds.compensation import CompensationService
from loans.loans.models import Loan, LoanInstallment
from loans.loans.schemas import CompensationCreate, InstallmentOut, LoanOut, ScheduleOut, WriteOffCreate
from loans.loans.service import LoanBalances, LoanService, balances_for
from loans.money import fen_to_str, rate_str
from loans.settings import Settings


def loan_out(loan: Loan, balances: LoanBalances) -> LoanOut:
    return LoanOut(
        id=loan.id,
        application_id=loan.application_id,
        applicant_id=loan.applicant_id,
        contract_no=loan.contract_no,
        bank_code=loan.bank_code,
        guarantee_fund_id=loan.guarantee_fund_id,
        county_code=loan.county_code,
        township_code=loan.township_code,
        village_code=loan.village_code,
        status=loan.status,
        principal=fen_to_str(loan.principal),
        outstanding_principal=fen_to_str(loan.outstanding_principal),
        outstanding_interest=fen_to_str(balances.outstanding_interest),
        outstanding_penalty=fen_to_str(balances.outstanding_penalty),
        annual_rate=rate_str(loan.annual_rate),
        subsidy_share=rate_str(loan.subsidy_share),
        penalty_markup=rate_str(loan.penalty_markup),
        term_months=loan.term_months,
        repayment_method=loan.repayment_method,
        guarantee_mode=loan.guarantee_mode,
        disbursed_on=loan.disbursed_on,
        maturity_date=loan.maturity_date,
        project_type=loan.project_type,
        jobs_expected=loan.jobs_expected,
        next_due_date=balances.next_due_date,
        next_due_amount=None if balances.next_due_amount is None else fen_to_str(balances.next_due_amount),
        days_past_due=loan.days_past_due,
        bucket=loan.bucket,
        five_class=loan.five_class,
        overdue_principal=fen_to_str(loan.overdue_principal),
        settled_on=loan.settled_on,
        claimable_since=loan.claimable_since,
        compensated_on=loan.compensated_on,
        compensated_amount=fen_to_str(loan.compensated_amount),
        recovered_amount=fen_to_str(loan.recovered_amount),
        written_off_on=loan.written_off_on,
    )


def installment_out(row: LoanInstallment) -> InstallmentOut:
    return InstallmentOut(
        seq=row.seq,
        period_start=row.period_start,
        due_date=row.due_date,
        principal=fen_to_str(row.principal),
        interest=fen_to_str(row.interest),
        subsidy_interest=fen_to_str(row.subsidy_interest),
        borrower_interest=fen_to_str(row.borrower_interest),
        cancelled_interest=fen_to_str(row.cancelled_interest),
        penalty=fen_to_str(row.penalty_accrued),
        paid_principal=fen_to_str(row.paid_principal),
        paid_interest=fen_to_str(row.paid_interest),
        paid_penalty=fen_to_str(row.paid_penalty),
        status=row.status,
    )


class LoanController(Controller):
    path = "/api/v1/loans"
    tags = ["loans"]

    @get("/")
    async def list_loans(
        self,
        db_session: AsyncSession,
        actor: Actor,
        status: str | None = None,
        region_code: str | None = None,
        bank_code: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
        offset: Offset = 0,
    ) -> Page[LoanOut]:
        loans, total = await LoanService(db_session, actor).search(
            status=status, region_code=region_code, bank_code=bank_code, limit=limit, offset=offset
        )
        balances = await balances_for(db_session, [loan.id for loan in loans])
        items = [loan_out(loan, balances.get(loan.id, LoanBalances())) for loan in loans]
        return Page[LoanOut](items=items, total=total, limit=limit, offset=offset)

    @get("/{loan_id:uuid}")
    async def get_loan(self, loan_id: UUID, db_session: AsyncSession, actor: Actor) -> LoanOut:
        loan = await LoanService(db_session, actor).get(loan_id)
        balances = await balances_for(db_session, [loan.id])
        return loan_out(loan, balances.get(loan.id, LoanBalances()))

    @post("/{loan_id:uuid}/compensation", status_code=200)
    async def compensate(
        self,
        loan_id: UUID,
        data: CompensationCreate,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
    ) -> LoanOut:
        day = today(settings)
        loan, _ = await CompensationService(db_session, actor).compensate(
            loan_id, data.compensated_on or day, day
        )
        return loan_out(loan, (await balances_for(db_session, [loan.id])).get(loan.id, LoanBalances()))

    @post("/{loan_id:uuid}/write-off", status_code=200)
    async def write_off(
        self, loan_id: UUID, data: WriteOffCreate, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> LoanOut:
        loan = await CompensationService(db_session, actor).write_off(loan_id, data.reason, today(settings))
        return loan_out(loan, (await balances_for(db_session, [loan.id])).get(loan.id, LoanBalances()))

    @get("/{loan_id:uuid}/schedule")
    async def get_schedule(self, loan_id: UUID, db_session: AsyncSession, actor: Actor) -> ScheduleOut:
        service = LoanService(db_session, actor)
        loan = await service.get(loan_id)
        rows = await service.installments(loan.id)
        return ScheduleOut(loan_id=loan.id, installments=[installment_out(r) for r in rows])
