from __future__ import annotations

from types import SimpleNamespace
from uuid import UUID

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.schemas import Attributes, Offset, Page
from loans.lending.models import Loan, LoanInstallment
from loans.lending.schemas import InstallmentOut, LoanOut, ScheduleOut
from loans.lending.service import LoanBalances, LoanFilter, LoanService, balances_for
from loans.lending.visit_cadence import VISITED_STATUSES, next_visit_by


def loan_out(loan: Loan, balances: LoanBalances) -> LoanOut:
    visiting = (
        next_visit_by(loan.disbursed_on, loan.last_visit_on) if loan.status in VISITED_STATUSES else None
    )
    return LoanOut.model_validate(Attributes(balances, SimpleNamespace(next_visit_by=visiting), loan))


def installment_out(row: LoanInstallment) -> InstallmentOut:
    return InstallmentOut.model_validate(Attributes(SimpleNamespace(penalty=row.penalty_accrued), row))


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
            LoanFilter(status=status, region_code=region_code, bank_code=bank_code),
            limit=limit,
            offset=offset,
        )
        balances = await balances_for(db_session, [loan.id for loan in loans])
        items = [loan_out(loan, balances.get(loan.id, LoanBalances())) for loan in loans]
        return Page[LoanOut](items=items, total=total, limit=limit, offset=offset)

    @get("/{loan_id:uuid}")
    async def get_loan(self, loan_id: UUID, db_session: AsyncSession, actor: Actor) -> LoanOut:
        loan = await LoanService(db_session, actor).get(loan_id)
        balances = await balances_for(db_session, [loan.id])
        return loan_out(loan, balances.get(loan.id, LoanBalances()))

    @get("/{loan_id:uuid}/schedule")
    async def get_schedule(self, loan_id: UUID, db_session: AsyncSession, actor: Actor) -> ScheduleOut:
        service = LoanService(db_session, actor)
        loan = await service.get(loan_id)
        rows = await service.installments(loan.id)
        return ScheduleOut(loan_id=loan.id, installments=[installment_out(r) for r in rows])
