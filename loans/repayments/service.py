"""Posting and reversing repayments. Every posting locks its loan row, so concurrent postings queue."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from uuid import UUID

import asyncpg
from sqlalchemy import Select, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from uuid_utils.compat import uuid7

from loans.audit.service import EVENT_COLUMNS, event_values, record_event
from loans.core.actor import Actor, ScopeShape, scope_condition
from loans.core.driver import DriverStatement, driver_connection
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.core.roles import Role
from loans.funds.compensation import record_recovery, undo_recovery
from loans.loans.delinquency import refresh_loans
from loans.loans.models import Loan, LoanInstallment
from loans.loans.service import LoanService
from loans.money import fen_to_str, yuan_to_fen
from loans.repayments.allocation import (
    Allocation,
    AllocationLine,
    InstallmentState,
    Overpayment,
    allocate,
    payoff_amount,
)
from loans.repayments.models import Repayment, RepaymentAllocation, RepaymentReversal
from loans.repayments.schemas import RepaymentCreate, ReversalCreate
from loans.repayments.value_dating import (
    LAST_BUSINESS_DATE,
    Author,
    LoanReplay,
    Payment,
    last_business_date,
    needing_replay,
    replay,
    write_replays,
)

POSTABLE_STATUSES = ("active", "overdue", "compensated")


@dataclass(frozen=True, slots=True)
class LoanAfter:
    """What the answer to a posting or reversal tells of its loan."""

    status: str
    outstanding_principal: int

    @classmethod
    def of(cls, loan: Loan) -> LoanAfter:
        return cls(loan.status, loan.outstanding_principal)


@dataclass(frozen=True, slots=True)
class NewRepayment:
    """A repayment as a posting writes it. The answer is built from it and from the allocation's lines rather
    than from ORM objects, whose construction was about 5 % of a posting's CPU in a profile."""

    id: UUID
    loan_id: UUID
    bank_code: str
    bank_txn_ref: str
    amount: int
    paid_on: date
    settles: bool
    source: str
    posted_by: UUID | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PostingResult:
    repayment: Repayment | NewRepayment
    lines: Sequence[RepaymentAllocation | AllocationLine]
    loan: LoanAfter
    reversed: bool
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


def _set_figures(loan: Loan, figures: dict) -> None:
    """Take the refreshed figures onto the loan object as the database now holds them."""
    for key, value in figures.items():
        set_committed_value(loan, key, value)


STATE_COLUMNS = [getattr(LoanInstallment, name) for name in InstallmentState.__dataclass_fields__]
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


INSTALLMENT_STATES = DriverStatement.of(
    select(*(LoanInstallment.__table__.c[c.key] for c in STATE_COLUMNS))
    .where(LoanInstallment.__table__.c.loan_id == bindparam("loan_id"))
    .order_by(LoanInstallment.__table__.c.seq)
)


_LINE_FIELDS = ("seq", "penalty", "interest", "principal", "cancelled_interest", "cancelled_subsidy")
_LINES = f"""unnest({", ".join(f"CAST(:line_{c} AS {'integer' if c == 'seq' else 'bigint'}[])" for c in _LINE_FIELDS)})
       AS x({", ".join(_LINE_FIELDS)})"""


def _line_arrays(lines: list[AllocationLine] | list[RepaymentAllocation], sign: int) -> dict[str, list[int]]:
    """Allocation lines as the column arrays of ``_LINES``, amounts times ``sign``."""
    return {
        f"line_{field}": [getattr(line, field) * (1 if field == "seq" else sign) for line in lines]
        for field in _LINE_FIELDS
    }


_APPLY = f"""UPDATE installment i SET paid_penalty = i.paid_penalty + x.penalty,
       paid_interest = i.paid_interest + x.interest, paid_principal = i.paid_principal + x.principal,
       cancelled_interest = i.cancelled_interest + x.cancelled_interest,
       cancelled_subsidy = i.cancelled_subsidy + x.cancelled_subsidy,
       on_time_principal = i.on_time_principal
           + CASE WHEN CAST(:paid_on AS date) <= i.due_date THEN x.principal ELSE 0 END
FROM {_LINES} WHERE i.loan_id = :loan_id AND i.seq = x.seq"""
_APPLY_STANDALONE = text(_APPLY)

_REPAYMENT_COLUMNS = tuple(NewRepayment.__dataclass_fields__)
# One round trip writes the whole posting; the foreign keys are checked at the end of the statement, so the
# allocation lines may refer to the repayment inserted beside them. Every write but the repayment's insert
# depends on that insert's RETURNING: a bank reference already posted writes nothing and returns no row.
_POST = DriverStatement.of(
    text(
        f"""
WITH repayment AS (
    INSERT INTO repayment ({", ".join(_REPAYMENT_COLUMNS)})
    VALUES ({", ".join(f":{c}" for c in _REPAYMENT_COLUMNS)})
    ON CONFLICT (bank_code, bank_txn_ref) DO NOTHING
    RETURNING id
), allocation AS (
    INSERT INTO repayment_allocation (repayment_id, loan_id, paid_on, {", ".join(_LINE_FIELDS)})
    SELECT r.id, :loan_id, :paid_on, {", ".join(f"x.{c}" for c in _LINE_FIELDS)} FROM repayment r, {_LINES}
), installments AS (
    {_APPLY} AND EXISTS (SELECT FROM repayment)
), loan AS (
    UPDATE loan SET outstanding_principal = outstanding_principal - :principal_paid, status = :status,
           settled_on = COALESCE(CAST(:settled_on AS date), settled_on), updated_at = :updated_at
    WHERE id = :loan_id AND EXISTS (SELECT FROM repayment)
)
INSERT INTO audit_event ({", ".join(EVENT_COLUMNS)})
SELECT {", ".join(f"CAST(:event_{c} AS jsonb)" if c in ("before", "after") else f":event_{c}" for c in EVENT_COLUMNS)}
FROM repayment
RETURNING id
"""
    )
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


# Who posts and reverses repayments.
POSTERS = (Role.BANK_LIAISON,)


@dataclass
class RepaymentService:
    session: AsyncSession
    actor: Actor

    async def _lock_loan(self, loan_id: UUID) -> Loan:
        return await LoanService(self.session, self.actor).get(loan_id, for_update=True)

    async def _posting_target(self, loan_id: UUID) -> tuple[PostingTarget, asyncpg.Connection]:
        """The loan locked, with its installments, and the driver connection the posting's writes run on."""
        actor = self.actor
        scope = {"loan_id": loan_id, "region_code": actor.region_code, "bank_code": actor.bank_code}
        # Through the session: its first statement begins the transaction the driver's statements run in.
        loan = (await self.session.execute(lock_query(actor.scope_shape), scope)).first()
        if loan is None:
            raise NotFound("loan", "贷款", loan_id)
        connection = await driver_connection(self.session)
        installments = await INSTALLMENT_STATES.fetch(connection, {"loan_id": loan_id})
        target = PostingTarget(
            *loan[: len(_TARGET_FIELDS)],
            last_business_date=loan.last_business_date,
            installments=[InstallmentState(*row) for row in installments],
        )
        return target, connection

    async def post_repayment(self, loan_id: UUID, data: RepaymentCreate, today: date) -> PostingResult:
        """Allocate a repayment and write it in one statement (repayment, allocation, installments, loan,
        audit event) under the loan's row lock; then recompute the loan's delinquency figures.

        A repayment dated on or before the last business date closed is allocated by replaying its loan from that
        date (value_dating.py), which also writes what the replay changed beside the repayment.

        Idempotent on (bank, bank_txn_ref): the write is conditional on the repayment's insert, so a repeat
        writes nothing and answers the first posting (or 409 if its content differs). A refused posting is
        checked for being a repeat first: repeating the payment that settled a loan still answers 200."""
        loan, connection = await self._posting_target(loan_id)
        self.actor.require(*POSTERS)
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
        now = datetime.now(UTC)
        repayment = NewRepayment(
            id=uuid7(),
            loan_id=loan.id,
            bank_code=loan.bank_code,
            bank_txn_ref=data.bank_txn_ref,
            amount=amount,
            paid_on=data.paid_on,
            settles=allocation.settles,
            source="api",
            posted_by=self.actor.user_id,
            created_at=now,
            updated_at=now,
        )
        status = loan.status
        if allocation.settles:
            status = "recovered" if loan.status == "compensated" else "settled"
        principal_paid = sum(line.principal for line in allocation.lines)
        event = event_values(
            self.actor,
            entity_type="loan",
            entity_id=loan.id,
            action="post_repayment",
            after={
                "repayment_id": str(repayment.id),
                "amount": fen_to_str(amount),
                "paid_on": data.paid_on.isoformat(),
                "bank_txn_ref": data.bank_txn_ref,
                "settles": allocation.settles,
            },
        )
        written = await _POST.fetchrow(
            connection,
            {
                **{column: getattr(repayment, column) for column in _REPAYMENT_COLUMNS},
                **_line_arrays(allocation.lines, sign=1),
                "principal_paid": principal_paid,
                "status": status,
                "settled_on": data.paid_on if allocation.settles else None,
                **{
                    f"event_{key}": json.dumps(value, ensure_ascii=False)
                    if isinstance(value, dict)
                    else value
                    for key, value in event.items()
                },
            },
        )
        if written is None:
            repeat = await self._repeat(loan, data, amount)
            if repeat is None:
                raise RuntimeError("the repayment's insert gave way to a row that is not there")
            return repeat
        outstanding = loan.outstanding_principal - principal_paid
        if replayed is not None:
            await write_replays(connection, [replayed], self._author())
            status, outstanding = replayed.final_status(), replayed.outstanding
        if loan.status == "compensated":
            # Rare; the loan's row is already locked by this transaction.
            compensated = await self.session.get_one(Loan, loan.id, populate_existing=True)
            await record_recovery(self.session, compensated, amount, data.paid_on, data.bank_txn_ref)
        refreshed = (await refresh_loans(self.session, [loan.id], today)).get(loan.id, {})
        after = LoanAfter(refreshed.get("status", status), outstanding)
        return PostingResult(repayment, allocation.lines, after, reversed=False, created=True)

    def _author(self) -> Author:
        return Author(self.actor.user_id, self.actor.username, self.actor.role)

    async def _value_dated(
        self, loan: PostingTarget, connection: asyncpg.Connection, data: RepaymentCreate, amount: int
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
            later = replayed.conflict
            raise Conflict(
                f"the repayment {later.key} of {later.paid_on} would then exceed what the loan owed: reverse it, "
                "post this one, then post it again",
                f"入账后，{later.paid_on} 的还款 {later.key} 将超过当时的应还金额："
                "请先冲正该笔，再入账本笔，然后重新入账该笔",
                state=loan.status,
                repayment_id=str(later.key),
            )
        return replayed

    async def _repeat(self, loan: PostingTarget, data: RepaymentCreate, amount: int) -> PostingResult | None:
        """The first posting of this bank reference, if there was one; 409 if its content differs."""
        existing = await self.session.scalar(
            select(Repayment).where(
                Repayment.bank_code == loan.bank_code, Repayment.bank_txn_ref == data.bank_txn_ref
            )
        )
        if existing is None:
            return None
        if (existing.loan_id, existing.amount, existing.paid_on) != (loan.id, amount, data.paid_on):
            raise Conflict(
                f"bank_txn_ref {data.bank_txn_ref} was already posted with different content",
                f"交易流水号 {data.bank_txn_ref} 已入账，且内容不同",
                existing_id=str(existing.id),
            )
        return await self.result(existing, created=False)

    async def _apply(
        self, loan: Loan, repayment: Repayment, lines: list[RepaymentAllocation], sign: int
    ) -> None:
        """Add (sign=1) or take back (sign=-1) a repayment's allocation lines on the installments, in one
        statement."""
        if not lines:
            return
        await self.session.execute(
            _APPLY_STANDALONE, {"loan_id": loan.id, "paid_on": repayment.paid_on, **_line_arrays(lines, sign)}
        )
        loan.outstanding_principal -= sign * sum(line.principal for line in lines)

    async def reverse(self, repayment_id: UUID, data: ReversalCreate, today: date) -> PostingResult:
        repayment = await self.session.scalar(
            select(Repayment)
            .join(Loan, Loan.id == Repayment.loan_id)
            .where(Repayment.id == repayment_id, self.actor.scope_filter(Loan))
        )
        if repayment is None:
            raise NotFound("repayment", "还款记录", repayment_id)
        loan = await self._lock_loan(repayment.loan_id)
        self.actor.require(*POSTERS)
        if await self.session.scalar(
            select(RepaymentReversal.id).where(RepaymentReversal.repayment_id == repayment.id)
        ):
            raise Conflict("this repayment is already reversed", "该笔还款已冲正", state="reversed")
        lines = list(
            await self.session.scalars(
                select(RepaymentAllocation).where(RepaymentAllocation.repayment_id == repayment.id)
            )
        )
        await self._apply(loan, repayment, lines, sign=-1)
        status_before = loan.status
        await undo_recovery(self.session, loan, repayment.bank_txn_ref, today)
        if loan.status in ("settled", "recovered"):
            loan.status = "active" if loan.status == "settled" else "compensated"
            loan.settled_on = None
        self.session.add(
            RepaymentReversal(
                repayment_id=repayment.id,
                loan_id=loan.id,
                reason=data.reason,
                reversed_on=today,
                reversed_by=self.actor.user_id,
            )
        )
        await self.session.flush()
        await self._replay_reversed(loan, repayment)
        _set_figures(loan, (await refresh_loans(self.session, [loan.id], today)).get(loan.id, {}))
        record_event(
            self.session,
            self.actor,
            entity_type="loan",
            entity_id=loan.id,
            action="reverse_repayment",
            from_status=status_before,
            to_status=loan.status,
            after={"repayment_id": str(repayment.id), "reason": data.reason},
        )
        return PostingResult(repayment, lines, LoanAfter.of(loan), reversed=True, created=True)

    async def _replay_reversed(self, loan: Loan, repayment: Repayment) -> None:
        """A reversal of a repayment dated on or before the last business date replays its loan from that date
        without it: the later repayments are allocated again, and the closed days it uncovers bear penalty."""
        connection = await driver_connection(self.session)
        through = await last_business_date(connection)
        if through is None or repayment.paid_on > through:
            return
        replayed = (await replay(connection, {loan.id: repayment.paid_on}, {}, through))[loan.id]
        if replayed.conflict is not None:  # not expected: without a repayment the loan owes more, not less
            later = replayed.conflict
            raise Conflict(
                f"the repayment {later.key} of {later.paid_on} would exceed what the loan owed without this one",
                f"冲正后，{later.paid_on} 的还款 {later.key} 将超过当时的应还金额",
                state=loan.status,
                repayment_id=str(later.key),
            )
        await write_replays(connection, [replayed], self._author())
        for key, value in (
            ("outstanding_principal", replayed.outstanding),
            ("status", replayed.final_status()),
            ("settled_on", replayed.settled_on),
        ):
            set_committed_value(loan, key, value)

    async def result(self, repayment: Repayment, *, created: bool) -> PostingResult:
        lines = list(
            await self.session.scalars(
                select(RepaymentAllocation)
                .where(RepaymentAllocation.repayment_id == repayment.id)
                .order_by(RepaymentAllocation.seq)
            )
        )
        loan = await self.session.get_one(Loan, repayment.loan_id)
        reversed_ = await self.session.scalar(
            select(RepaymentReversal.id).where(RepaymentReversal.repayment_id == repayment.id)
        )
        return PostingResult(
            repayment, lines, LoanAfter.of(loan), reversed=reversed_ is not None, created=created
        )

    async def payoff(self, loan_id: UUID, on: date) -> int:
        """What paying the loan off on ``on`` costs, in fen: the amount a posting dated ``on`` settles it with."""
        loan = await LoanService(self.session, self.actor).get(loan_id)
        rows = await INSTALLMENT_STATES.fetch(await driver_connection(self.session), {"loan_id": loan_id})
        return payoff_amount([InstallmentState(*row) for row in rows], on, loan.subsidy_share)

    async def for_loan(self, loan_id: UUID) -> list[PostingResult]:
        """Every repayment of a loan with its allocation, in three queries."""
        loan = await self.session.scalar(
            select(Loan).where(Loan.id == loan_id, self.actor.scope_filter(Loan))
        )
        if loan is None:
            raise NotFound("loan", "贷款", loan_id)
        repayments = list(
            await self.session.scalars(
                select(Repayment)
                .where(Repayment.loan_id == loan_id)
                .order_by(Repayment.paid_on, Repayment.created_at)
            )
        )
        lines: dict[UUID, list[RepaymentAllocation]] = {r.id: [] for r in repayments}
        for line in await self.session.scalars(
            select(RepaymentAllocation)
            .where(RepaymentAllocation.loan_id == loan_id)
            .order_by(RepaymentAllocation.seq)
        ):
            lines[line.repayment_id].append(line)
        reversed_ids = set(
            await self.session.scalars(
                select(RepaymentReversal.repayment_id).where(RepaymentReversal.loan_id == loan_id)
            )
        )
        after = LoanAfter.of(loan)
        return [PostingResult(r, lines[r.id], after, r.id in reversed_ids, created=False) for r in repayments]
