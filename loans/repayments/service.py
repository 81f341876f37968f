"""Posting and reversing repayments: the rules (who, when, how much) and the order of the steps; the writes are the
ledger's (ledger.py). The caller's role is checked first; then every posting and reversal locks its loan row, so
concurrent postings queue."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache
from uuid import UUID

from sqlalchemy import Select, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.core.actor import Actor, ScopeShape, scope_condition
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.core.roles import Role
from loans.funds.compensation import record_recovery, undo_recovery
from loans.lending.models import Loan, LoanInstallment
from loans.lending.service import LoanService
from loans.money import fen_to_str, yuan_to_fen
from loans.repayments import ledger
from loans.repayments.allocation import Allocation, InstallmentState, Overpayment, allocate, payoff_amount
from loans.repayments.ledger import Author, Batch, RepaymentEntry
from loans.repayments.models import Repayment
from loans.repayments.schemas import RepaymentCreate, ReversalCreate
from loans.repayments.value_dating import (
    LAST_BUSINESS_DATE,
    LoanReplay,
    Payment,
    last_business_date,
    needing_replay,
    replay,
)

POSTABLE_STATUSES = ("active", "overdue", "compensated")
# Who posts and reverses repayments.
POSTERS = (Role.BANK_LIAISON,)


@dataclass(frozen=True, slots=True)
class LoanAfter:
    """What the answer to a posting or reversal tells of its loan."""

    status: str
    outstanding_principal: int


@dataclass(frozen=True, slots=True)
class PostingResult:
    repayment: RepaymentEntry
    loan: LoanAfter
    created: bool


@dataclass(frozen=True, slots=True)
class PostingTarget:
    """The loan a repayment is posted to, as locked for the posting, with its installments."""

    id: UUID
    bank_code: str
    status: str
    disbursed_on: date
    subsidy_share: Decimal
    outstanding_principal: int
    last_business_date: date | None  # closed or being closed: a payment dated then or before is value-dated
    installments: list[InstallmentState]


_TARGET_FIELDS = [
    name for name in PostingTarget.__dataclass_fields__ if name not in ("last_business_date", "installments")
]


@cache
def lock_query(shape: ScopeShape) -> Select:
    """The loan row-locked, if it is in the caller's scope. Built once per scope shape with bound parameters:
    the posting is the API's busiest request, and building and keying the statement each time was a tenth of
    its CPU. The installments are read by a statement of their own, after the lock: a join locked with the loan
    would read them as of before the lock was waited for.

    It also asks for generic plans for the rest of the transaction (as `SET LOCAL plan_cache_mode` would, without a
    round trip of its own): a posting's statements are the same for every loan (one loan's rows by primary key),
    and PostgreSQL planned the refresh anew at each call (0.9 ms of its CPU, as much as running it)."""
    loan = Loan.__table__.c
    return (
        select(
            *(loan[name] for name in _TARGET_FIELDS),
            text(f"{LAST_BUSINESS_DATE} AS last_business_date"),
            func.set_config("plan_cache_mode", "force_generic_plan", True).label("generic_plans"),
        )
        .where(
            loan.id == bindparam("loan_id"),
            scope_condition(loan, shape, bindparam("region_code"), bindparam("bank_code")),
        )
        .with_for_update()
    )


_POSTED = "posted"  # the key of the repayment being posted in its loan's replay


def _check_postable(loan: PostingTarget, data: RepaymentCreate, today: date) -> None:
    if data.paid_on < loan.disbursed_on:
        raise InvalidInput("paid_on", "before the loan was disbursed", "还款日期早于放款日期")
    if data.paid_on > today:
        raise InvalidInput("paid_on", "cannot be in the future", "还款日期不能晚于今天")
    if loan.status not in POSTABLE_STATUSES:
        raise Conflict(
            f"cannot post a repayment to a {loan.status} loan",
            f"贷款状态为 {loan.status}，不能入账",
            state=loan.status,
        )


def _exceeds(payoff: int, paid_on: date) -> InvalidInput:
    return InvalidInput(
        "amount",
        f"exceeds the total outstanding of {fen_to_str(payoff)} on {paid_on}",
        f"超过截至 {paid_on} 的全部应还金额 {fen_to_str(payoff)} 元",
    )


def _allocate(
    installments: list[InstallmentState], amount: int, paid_on: date, subsidy_share: Decimal
) -> Allocation:
    try:
        return allocate(installments, amount, paid_on, subsidy_share)
    except Overpayment as exc:
        raise _exceeds(exc.payoff, paid_on) from exc


def _later_exceeds(replayed: LoanReplay, status: str, posting: bool) -> Conflict:
    """A standing repayment after the payment date that no longer fits what the loan owed."""
    later = replayed.conflict
    assert later is not None
    if posting:
        return Conflict(
            f"the repayment {later.key} of {later.paid_on} would then exceed what the loan owed: reverse it, "
            "post this one, then post it again",
            f"入账后，{later.paid_on} 的还款 {later.key} 将超过当时的应还金额："
            "请先冲正该笔，再入账本笔，然后重新入账该笔",
            state=status,
            repayment_id=str(later.key),
        )
    return Conflict(  # not expected: without a repayment the loan owes more, not less
        f"the repayment {later.key} of {later.paid_on} would exceed what the loan owed without this one",
        f"冲正后，{later.paid_on} 的还款 {later.key} 将超过当时的应还金额",
        state=status,
        repayment_id=str(later.key),
    )


@dataclass
class RepaymentService:
    session: AsyncSession
    actor: Actor

    def _author(self) -> Author:
        return Author(self.actor.user_id, self.actor.username, self.actor.role.value)

    async def _posting_target(self, loan_id: UUID) -> tuple[PostingTarget, ledger.Connection]:
        """The loan locked, with its installments, and the driver connection the posting's writes run on."""
        actor = self.actor
        scope = {"loan_id": loan_id, "region_code": actor.region_code, "bank_code": actor.bank_code}
        # Through the session: its first statement begins the transaction the driver's statements run in.
        loan = (await self.session.execute(lock_query(actor.scope_shape), scope)).first()
        if loan is None:
            raise NotFound("loan", "贷款", loan_id)
        connection = await ledger.connection(self.session)
        target = PostingTarget(
            *loan[: len(_TARGET_FIELDS)],
            last_business_date=loan.last_business_date,
            installments=await ledger.installment_states(connection, loan_id),
        )
        return target, connection

    async def post_repayment(self, loan_id: UUID, data: RepaymentCreate, today: date) -> PostingResult:
        """Allocate a repayment and write it through the ledger in one statement (repayment, allocation,
        installments, loan, audit event) under the loan's row lock; then recompute the loan's delinquency figures.

        A repayment dated on or before the last business date closed is allocated by replaying its loan from that
        date (value_dating.py), and the ledger also writes what the replay changed beside the repayment.

        Idempotent on (bank, bank_txn_ref): the write is conditional on the repayment's insert, so a repeat
        writes nothing and answers the first posting (or 409 if its content differs). A refused posting is
        checked for being a repeat first: repeating the payment that settled a loan still answers 200."""
        self.actor.require(*POSTERS)
        loan, connection = await self._posting_target(loan_id)
        amount = yuan_to_fen(data.amount)
        try:
            _check_postable(loan, data, today)
            replayed = await self._value_dated(loan, connection, data, amount)
            allocation = (
                replayed.allocations[_POSTED]
                if replayed is not None
                else _allocate(loan.installments, amount, data.paid_on, loan.subsidy_share)
            )
        except (InvalidInput, Conflict):
            if (repeat := await self._repeat(loan, data, amount)) is not None:
                return repeat
            raise
        batch = Batch(self._author())
        entry = batch.post(
            loan.id, loan.bank_code, data.bank_txn_ref, amount, data.paid_on, allocation,
            {s.seq: s.due_date for s in loan.installments},
            source="api", posted_by=self.actor.user_id,
            settled_status="recovered" if loan.status == "compensated" else "settled",
            event={"amount": fen_to_str(amount), "paid_on": data.paid_on, "bank_txn_ref": data.bank_txn_ref,
                   "settles": allocation.settles},
        )  # fmt: skip
        if not await ledger.write(connection, batch):
            repeat = await self._repeat(loan, data, amount)
            if repeat is None:
                raise RuntimeError("the repayment's insert gave way to a row that is not there")
            return repeat
        status = batch.loans[loan.id].status or loan.status
        outstanding = loan.outstanding_principal - batch.loans[loan.id].principal_paid
        if replayed is not None:
            await ledger.write_replays(connection, [replayed], self._author())
            status, outstanding = replayed.final_status(), replayed.outstanding
        if loan.status == "compensated":
            # Rare; the loan's row is already locked by this transaction.
            compensated = await self.session.get_one(Loan, loan.id, populate_existing=True)
            await record_recovery(self.session, compensated, amount, data.paid_on, data.bank_txn_ref)
        refreshed = (await ledger.refresh(self.session, [loan.id], today)).get(loan.id, {})
        return PostingResult(entry, LoanAfter(refreshed.get("status", status), outstanding), created=True)

    async def _value_dated(
        self, loan: PostingTarget, connection: ledger.Connection, data: RepaymentCreate, amount: int
    ) -> LoanReplay | None:
        """The loan replayed with the repayment, if it is dated on or before the last business date and a replay
        could change anything (otherwise it is allocated on the installments as they are)."""
        through = loan.last_business_date
        if through is None or data.paid_on > through:
            return None
        starts = {loan.id: data.paid_on}
        if not await needing_replay(connection, starts):
            return None
        posted = Payment(_POSTED, amount, data.paid_on, standing=False)
        replayed = (await replay(connection, starts, {loan.id: [posted]}, through))[loan.id]
        if _POSTED in replayed.refused:
            raise _exceeds(replayed.refused[_POSTED], data.paid_on)
        if replayed.conflict is not None:
            raise _later_exceeds(replayed, loan.status, posting=True)
        return replayed

    async def _repeat(self, loan: PostingTarget, data: RepaymentCreate, amount: int) -> PostingResult | None:
        """The first posting of this bank reference, if there was one; 409 if its content differs."""
        existing = await ledger.entries(self.session, ledger.repayment_of(loan.bank_code, data.bank_txn_ref))
        if not existing:
            return None
        first = existing[0]
        if (first.loan_id, first.amount, first.paid_on) != (loan.id, amount, data.paid_on):
            raise Conflict(
                f"bank_txn_ref {data.bank_txn_ref} was already posted with different content",
                f"交易流水号 {data.bank_txn_ref} 已入账，且内容不同",
                existing_id=str(first.id),
            )
        stored = await self.session.get_one(Loan, first.loan_id)
        return PostingResult(first, LoanAfter(stored.status, stored.outstanding_principal), created=False)

    async def reverse(self, repayment_id: UUID, data: ReversalCreate, today: date) -> PostingResult:
        """Take a repayment's allocation back through the ledger, under its loan's row lock (a value-dated one by
        replaying its loan without it), then recompute the loan's figures; the audit event names the status after."""
        self.actor.require(*POSTERS)
        loan_id = await self.session.scalar(
            select(Repayment.loan_id)
            .join(Loan, Loan.id == Repayment.loan_id)
            .where(Repayment.id == repayment_id, self.actor.scope_filter(Loan))
        )
        if loan_id is None:
            raise NotFound("repayment", "还款记录", repayment_id)
        loan = await LoanService(self.session, self.actor).get(loan_id, for_update=True)
        # read under the lock: a value-dated posting may have allocated it again meanwhile
        (entry,) = await ledger.entries(self.session, Repayment.id == repayment_id)
        if entry.reversed:
            raise Conflict("this repayment is already reversed", "该笔还款已冲正", state="reversed")
        due_dates = dict(
            (await self.session.execute(
                select(LoanInstallment.seq, LoanInstallment.due_date).where(LoanInstallment.loan_id == loan.id)
            )).all()
        )  # fmt: skip
        status_before = loan.status
        status = {"settled": "active", "recovered": "compensated"}.get(loan.status)
        batch = Batch(self._author())
        batch.reverse(entry, due_dates, data.reason, today, self.actor.user_id, status)
        connection = await ledger.connection(self.session)
        if not await ledger.write(connection, batch):
            raise Conflict("this repayment is already reversed", "该笔还款已冲正", state="reversed")
        status = status or loan.status
        outstanding = loan.outstanding_principal - batch.loans[loan.id].principal_paid
        await undo_recovery(
            self.session, loan, entry.bank_txn_ref, today
        )  # the fund's entry; the loan's recovered sum
        through = await last_business_date(connection)
        if through is not None and entry.paid_on <= through:
            # the later repayments allocated again without it, and the closed days it uncovers bear penalty
            replayed = (await replay(connection, {loan.id: entry.paid_on}, {}, through))[loan.id]
            if replayed.conflict is not None:
                raise _later_exceeds(replayed, loan.status, posting=False)
            await ledger.write_replays(connection, [replayed], self._author())
            status, outstanding = replayed.final_status(), replayed.outstanding
        status = (await ledger.refresh(self.session, [loan.id], today)).get(loan.id, {}).get("status", status)
        # not one of the batch's events: the status it names after is known only once the replay and the refresh
        # have run, after the ledger's statement
        record_event(
            self.session,
            self.actor,
            entity_type="loan",
            entity_id=loan.id,
            action="reverse_repayment",
            from_status=status_before,
            to_status=status,
            after={"repayment_id": str(entry.id), "reason": data.reason},
        )
        return PostingResult(replace(entry, reversed=True), LoanAfter(status, outstanding), created=True)

    async def payoff(self, loan_id: UUID, on: date) -> int:
        """What paying the loan off on ``on`` costs, in fen: the amount a posting dated ``on`` settles it with."""
        loan = await LoanService(self.session, self.actor).get(loan_id)
        states = await ledger.installment_states(await ledger.connection(self.session), loan_id)
        return payoff_amount(states, on, loan.subsidy_share)

    async def for_loan(self, loan_id: UUID) -> list[PostingResult]:
        """Every repayment of a loan with its allocation, in three queries."""
        loan = await self.session.scalar(
            select(Loan).where(Loan.id == loan_id, self.actor.scope_filter(Loan))
        )
        if loan is None:
            raise NotFound("loan", "贷款", loan_id)
        after = LoanAfter(loan.status, loan.outstanding_principal)
        return [
            PostingResult(entry, after, created=False)
            for entry in await ledger.entries(self.session, Repayment.loan_id == loan_id)
        ]
