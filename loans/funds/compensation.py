"""代偿 and 追偿: the guarantee fund pays the bank for a defaulted loan, and later repayments flow back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.core.actor import Actor
from loans.core.errors import Conflict, InvalidInput
from loans.core.roles import Role
from loans.funds.models import FundEntry, GuaranteeFund
from loans.funds.service import FundService
from loans.lending.models import Loan, LoanInstallment
from loans.lending.service import LoanService
from loans.money import fen_to_str, round_fen

COMPENSATORS = (Role.COUNTY_OFFICER,)


@dataclass
class CompensationService:
    session: AsyncSession
    actor: Actor

    async def _lock(self, loan_id: UUID) -> Loan:
        loan = await LoanService(self.session, self.actor).get(loan_id, for_update=True)
        self.actor.require(*COMPENSATORS)
        return loan

    async def compensate(self, loan_id: UUID, compensated_on: date, today: date) -> tuple[Loan, FundEntry]:
        loan = await self._lock(loan_id)
        if loan.guarantee_fund_id is None:
            raise Conflict(
                "the loan is not guaranteed by a fund", "该贷款不由担保基金担保", state=loan.status
            )
        if loan.status != "overdue" or loan.claimable_since is None:
            raise Conflict(
                f"the loan is {loan.status} with {loan.days_past_due} days past due: not yet claimable",
                f"贷款状态为 {loan.status}，逾期 {loan.days_past_due} 天，尚未达到代偿条件",
                state=loan.status,
            )
        if compensated_on > today or compensated_on < loan.claimable_since:
            raise InvalidInput(
                "compensated_on",
                "must be between the day the loan became claimable and today",
                "代偿日期须在可代偿之日与今天之间",
            )
        fund = await self.session.get_one(GuaranteeFund, loan.guarantee_fund_id)
        interest_due = await self.session.scalar(
            select(
                func.coalesce(
                    func.sum(
                        LoanInstallment.borrower_interest
                        - LoanInstallment.cancelled_interest
                        - LoanInstallment.paid_interest
                    ),
                    0,
                )
            ).where(LoanInstallment.loan_id == loan.id, LoanInstallment.due_date <= compensated_on)
        )
        amount = round_fen(
            (loan.outstanding_principal + int(interest_due)) * Decimal(fund.compensation_share)
        )
        funds = FundService(self.session, self.actor)
        await funds.get(fund.id, for_update=True)
        balance = (await funds.balances([fund.id])).get(fund.id, 0)
        if amount > balance:
            raise Conflict(
                f"the fund's balance {fen_to_str(balance)} cannot pay {fen_to_str(amount)}",
                f"担保基金余额 {fen_to_str(balance)} 元不足以代偿 {fen_to_str(amount)} 元",
                state=loan.status,
            )
        entry = FundEntry(
            fund_id=fund.id,
            kind="compensation",
            amount=amount,
            occurred_on=compensated_on,
            reference=f"COMP-{loan.contract_no}",
            loan_id=loan.id,
            created_by=self.actor.user_id,
        )
        self.session.add(entry)
        before = loan.status
        loan.status, loan.compensated_on, loan.compensated_amount = "compensated", compensated_on, amount
        await self.session.flush()
        record_event(
            self.session,
            self.actor,
            entity_type="loan",
            entity_id=loan.id,
            action="compensate",
            from_status=before,
            to_status=loan.status,
            after={
                "amount": fen_to_str(amount),
                "fund_id": str(fund.id),
                "compensated_on": str(compensated_on),
            },
        )
        return loan, entry

    async def write_off(self, loan_id: UUID, reason: str, today: date) -> Loan:
        loan = await self._lock(loan_id)
        if loan.status != "compensated":
            raise Conflict(
                "only a compensated loan whose recovery has ended may be written off",
                "仅已代偿且追偿结束的贷款可以核销",
                state=loan.status,
            )
        loan.status, loan.written_off_on = "written_off", today
        record_event(
            self.session,
            self.actor,
            entity_type="loan",
            entity_id=loan.id,
            action="write_off",
            from_status="compensated",
            to_status="written_off",
            after={"reason": reason},
        )
        return loan


async def record_recovery(
    session: AsyncSession, loan: Loan, amount: int, paid_on: date, reference: str
) -> int:
    """A repayment on a compensated loan flows back to the fund, up to what the fund paid."""
    recovered = min(amount, loan.compensated_amount - loan.recovered_amount)
    if recovered > 0:
        session.add(
            FundEntry(
                fund_id=loan.guarantee_fund_id,
                kind="recovery",
                amount=recovered,
                occurred_on=paid_on,
                reference=f"REC-{reference}",
                loan_id=loan.id,
            )
        )
        loan.recovered_amount += recovered
    return recovered


async def undo_recovery(session: AsyncSession, loan: Loan, reference: str, on: date) -> None:
    """Reversing a repayment that was a recovery takes the recovery back out of the fund."""
    entry = await session.scalar(
        select(FundEntry).where(
            FundEntry.fund_id == loan.guarantee_fund_id, FundEntry.reference == f"REC-{reference}"
        )
    )
    if entry is not None:
        session.add(
            FundEntry(
                fund_id=entry.fund_id,
                kind="withdrawal",
                amount=entry.amount,
                occurred_on=on,
                reference=f"REV-{entry.reference}",
                loan_id=loan.id,
            )
        )
        loan.recovered_amount -= entry.amount
