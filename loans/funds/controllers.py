from __future__ import annotations

from datetime import date
from uuid import UUID

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.schemas import Attributes
from loans.funds.models import GuaranteeFund
from loans.funds.schemas import DepositCreate, FundCreate, FundEntryOut, FundOut
from loans.funds.service import FundFigures, FundService
from loans.settings import Settings


async def _fund_out(service: FundService, fund: GuaranteeFund, today: date) -> FundOut:
    return fund_out(fund, await service.figures(fund, today))


def fund_out(fund: GuaranteeFund, figures: FundFigures) -> FundOut:
    return FundOut.model_validate(Attributes(figures, fund))


class GuaranteeFundController(Controller):
    path = "/api/v1/guarantee-funds"
    tags = ["guarantee funds"]

    @post("/")
    async def create_fund(
        self, data: FundCreate, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> FundOut:
        service = FundService(db_session, actor)
        return await _fund_out(service, await service.create(data), today(settings))

    @get("/")
    async def list_funds(self, db_session: AsyncSession, actor: Actor, settings: Settings) -> list[FundOut]:
        service = FundService(db_session, actor)
        funds = await service.list()
        figures = await service.figures_for(funds, today(settings))
        return [fund_out(fund, figures[fund.id]) for fund in funds]

    @get("/{fund_id:uuid}")
    async def get_fund(
        self, fund_id: UUID, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> FundOut:
        service = FundService(db_session, actor)
        return await _fund_out(service, await service.get(fund_id), today(settings))

    @post("/{fund_id:uuid}/deposits")
    async def deposit(
        self, fund_id: UUID, data: DepositCreate, db_session: AsyncSession, actor: Actor
    ) -> FundEntryOut:
        return FundEntryOut.model_validate(await FundService(db_session, actor).deposit(fund_id, data))

    @get("/{fund_id:uuid}/entries")
    async def list_entries(self, fund_id: UUID, db_session: AsyncSession, actor: Actor) -> list[FundEntryOut]:
        return [FundEntryOut.model_validate(e) for e in await FundService(db_session, actor).entries(fund_id)]
