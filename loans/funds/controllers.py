from __future__ import annotations

from datetime import date
from uuid import UUID

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.schemas import Attributes
from loans.funds.compensation import CompensationService
from loans.funds.models import GuaranteeFund
from loans.funds.schemas import (
    CompensationCreate,
    DepositCreate,
    FundCreate,
    FundEntryOut,
    FundOut,
    WriteOffCreate,
)
from loans.funds.service import Commitments, FundFigures, FundService
from loans.lending.controllers import loan_out
from loans.lending.schemas import LoanOut
from loans.lending.service import LoanBalances, balances_for
from loans.settings import Settings


async def _fund_out(
    service: FundService, fund: GuaranteeFund, today: date, commitments: Commitments
) -> FundOut:
    return fund_out(fund, await service.figures(fund, today, commitments))


def fund_out(fund: GuaranteeFund, figures: FundFigures) -> FundOut:
    return FundOut.model_validate(Attributes(figures, fund))


class GuaranteeFundController(Controller):
    path = "/api/v1/guarantee-funds"
    tags = ["guarantee funds"]

    @post("/")
    async def create_fund(
        self,
        data: FundCreate,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        commitments: Commitments,
    ) -> FundOut:
        service = FundService(db_session, actor)
        return await _fund_out(service, await service.create(data), today(settings), commitments)

    @get("/")
    async def list_funds(
        self, db_session: AsyncSession, actor: Actor, settings: Settings, commitments: Commitments
    ) -> list[FundOut]:
        service = FundService(db_session, actor)
        funds = await service.list()
        figures = await service.figures_for(funds, today(settings), commitments)
        return [fund_out(fund, figures[fund.id]) for fund in funds]

    @get("/{fund_id:uuid}")
    async def get_fund(
        self,
        fund_id: UUID,
        db_session: AsyncSession,
        actor: Actor,
        settings: Settings,
        commitments: Commitments,
    ) -> FundOut:
        service = FundService(db_session, actor)
        return await _fund_out(service, await service.get(fund_id), today(settings), commitments)

    @post("/{fund_id:uuid}/deposits")
    async def deposit(
        self, fund_id: UUID, data: DepositCreate, db_session: AsyncSession, actor: Actor
    ) -> FundEntryOut:
        return FundEntryOut.model_validate(await FundService(db_session, actor).deposit(fund_id, data))

    @get("/{fund_id:uuid}/entries")
    async def list_entries(self, fund_id: UUID, db_session: AsyncSession, actor: Actor) -> list[FundEntryOut]:
        return [FundEntryOut.model_validate(e) for e in await FundService(db_session, actor).entries(fund_id)]


class LoanGuaranteeController(Controller):
    """The fund's acts on a guaranteed loan: compensating the bank (代偿) and writing the loan off."""

    path = "/api/v1/loans"
    tags = ["guarantee funds"]

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
