"""Guarantee fund figures (SPEC section 5): balance, guaranteed outstanding, capacity, leverage, compensation rate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import add_recorded, record_event
from loans.banks.service import require_bank
from loans.core.actor import Actor
from loans.core.db import locked
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role
from loans.funds.models import FundEntry, GuaranteeFund
from loans.funds.schemas import DepositCreate, FundCreate
from loans.lending.models import Loan
from loans.money import round_fen, yuan_to_fen
from loans.regions.service import require_region

RATIO_PLACES = Decimal("0.0001")
LIVE_LOAN_STATUSES = ("active", "overdue")
COMPENSATED_STATUSES = ("compensated", "recovered", "written_off")


Commitments = Callable[[AsyncSession, Collection[UUID]], Awaitable[Mapping[UUID, int]]]
"""What funds guarantee beside their loans, by fund: the amounts banks approved and have not yet disbursed.
The applications area answers it (loans/applications/commitments.py) and the caller hands it in: applications
depends on funds, not the other way."""


@dataclass(frozen=True, slots=True)
class FundFigures:
    balance: int
    guaranteed_outstanding: int
    capacity_left: int
    leverage_used: Decimal
    compensation_rate: Decimal

    @property
    def over_capacity(self) -> bool:
        """Guarantees beyond balance × leverage: a loan book taken in over the fund's capacity."""
        return self.capacity_left < 0


def _ratio(numerator: int, denominator: int) -> Decimal:
    if denominator == 0:
        return Decimal(0).quantize(RATIO_PLACES)
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES)


@dataclass
class FundService:
    session: AsyncSession
    actor: Actor

    def _visible(self):
        conditions = []
        if self.actor.region_code is not None:
            conditions.append(
                GuaranteeFund.county_code == ancestor_code(self.actor.region_code, RegionLevel.COUNTY)
            )
        if self.actor.role == Role.BANK_LIAISON:
            conditions.append(GuaranteeFund.bank_code == self.actor.bank_code)
        return conditions

    async def create(self, data: FundCreate) -> GuaranteeFund:
        self.actor.require(Role.COUNTY_OFFICER, Role.ADMIN)
        await require_region(self.session, "county_code", data.county_code, RegionLevel.COUNTY)
        if self.actor.region_code is not None and data.county_code != self.actor.region_code:
            raise InvalidInput("county_code", "outside your county", "不在您的辖区内")
        bank = await require_bank(self.session, "bank_code", data.bank_code)
        if bank.county_code != data.county_code:
            raise InvalidInput(
                "bank_code", "the bank is not a partner in this county", "该银行不是本县合作银行"
            )
        return await add_recorded(
            self.session,
            self.actor,
            GuaranteeFund(**data.model_dump()),
            entity_type="guarantee_fund",
            action="create_fund",
            after=data.model_dump(mode="json"),
        )

    async def get(self, fund_id: UUID, *, for_update: bool = False) -> GuaranteeFund:
        query = select(GuaranteeFund).where(GuaranteeFund.id == fund_id, *self._visible())
        if for_update:
            query = locked(query)
        fund = await self.session.scalar(query)
        if fund is None:
            raise NotFound("guarantee fund", "担保基金", fund_id)
        return fund

    async def list(self) -> list[GuaranteeFund]:
        query = select(GuaranteeFund).where(*self._visible()).order_by(GuaranteeFund.created_at)
        return list(await self.session.scalars(query))

    async def deposit(self, fund_id: UUID, data: DepositCreate) -> FundEntry:
        self.actor.require(Role.COUNTY_OFFICER)
        await self.get(fund_id, for_update=True)
        duplicate = await self.session.scalar(
            select(FundEntry.id).where(FundEntry.fund_id == fund_id, FundEntry.reference == data.reference)
        )
        if duplicate is not None:
            raise Conflict(
                f"reference {data.reference} is already recorded on this fund",
                f"凭证号 {data.reference} 已登记",
                existing_id=str(duplicate),
            )
        entry = FundEntry(
            fund_id=fund_id,
            kind="deposit",
            amount=yuan_to_fen(data.amount),
            occurred_on=data.deposited_on,
            reference=data.reference,
            created_by=self.actor.user_id,
        )
        self.session.add(entry)
        await self.session.flush()
        record_event(
            self.session,
            self.actor,
            entity_type="guarantee_fund",
            entity_id=fund_id,
            action="deposit",
            after={"entry_id": str(entry.id), **data.model_dump(mode="json")},
        )
        return entry

    async def entries(self, fund_id: UUID) -> list[FundEntry]:
        await self.get(fund_id)
        query = (
            select(FundEntry)
            .where(FundEntry.fund_id == fund_id)
            .order_by(FundEntry.occurred_on, FundEntry.id)
        )
        return list(await self.session.scalars(query))

    async def balances(self, fund_ids: Collection[UUID]) -> dict[UUID, int]:
        """Each fund's balance: deposits and recoveries in, compensations out (a fund without entries: none)."""
        signed = case(
            (FundEntry.kind.in_(("deposit", "recovery")), FundEntry.amount), else_=-FundEntry.amount
        )
        query = (
            select(FundEntry.fund_id, func.sum(signed))
            .where(FundEntry.fund_id.in_(fund_ids))
            .group_by(FundEntry.fund_id)
        )
        return {fund_id: int(balance) for fund_id, balance in await self.session.execute(query)}

    async def figures(self, fund: GuaranteeFund, today: date, commitments: Commitments) -> FundFigures:
        return (await self.figures_for([fund], today, commitments))[fund.id]

    async def figures_for(
        self, funds: list[GuaranteeFund], today: date, commitments: Commitments
    ) -> dict[UUID, FundFigures]:
        """The figures of several funds in three grouped queries, however many funds."""
        ids = [fund.id for fund in funds]
        balances = await self.balances(ids)
        compensated = Loan.status.in_(COMPENSATED_STATUSES)
        loans = {
            fund_id: (int(outstanding), int(compensated_principal), int(matured_principal))
            for fund_id, outstanding, compensated_principal, matured_principal in await self.session.execute(
                select(
                    Loan.guarantee_fund_id,
                    func.coalesce(
                        func.sum(Loan.outstanding_principal).filter(Loan.status.in_(LIVE_LOAN_STATUSES)), 0
                    ),
                    func.coalesce(func.sum(Loan.principal).filter(compensated), 0),
                    func.coalesce(
                        func.sum(Loan.principal).filter(compensated | (Loan.maturity_date <= today)), 0
                    ),
                )
                .where(Loan.guarantee_fund_id.in_(ids))
                .group_by(Loan.guarantee_fund_id)
            )
        }
        reserved = await commitments(self.session, ids)
        figures = {}
        for fund in funds:
            balance = balances.get(fund.id, 0)
            outstanding, compensated_principal, matured_principal = loans.get(fund.id, (0, 0, 0))
            guaranteed = outstanding + reserved.get(fund.id, 0)
            figures[fund.id] = FundFigures(
                balance=balance,
                guaranteed_outstanding=guaranteed,
                capacity_left=round_fen(Decimal(balance) * fund.leverage) - guaranteed,
                leverage_used=_ratio(guaranteed, balance),
                compensation_rate=_ratio(compensated_principal, matured_principal),
            )
        return figures
