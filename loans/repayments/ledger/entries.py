"""The ledger's result type, `RepaymentEntry`, and its reads: the entries for an answer (through the session), the
installments a posting allocates over and the refresh of the loans a batch touched (on the driver connection, under
the session's transaction: a posting's hot statements, whose SQLAlchemy execution cost more CPU than the driver's)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import ColumnElement, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.driver import DriverStatement, driver_connection
from loans.lending.delinquency import REFRESH_BY_IDS
from loans.lending.models import LoanInstallment
from loans.repayments.allocation import AllocationLine, InstallmentState
from loans.repayments.models import Repayment, RepaymentAllocation, RepaymentReversal

Connection = (
    asyncpg.Connection
)  # the driver connection a posting's statements run on, as the services hold it
LINE_FIELDS = ("seq", "penalty", "interest", "principal", "cancelled_interest", "cancelled_subsidy")


@dataclass(frozen=True, slots=True)
class Author:
    """Who the audit events of a batch name."""

    actor_id: UUID | None
    actor: str
    role: str


@dataclass(frozen=True, slots=True)
class RepaymentEntry:
    """A repayment with its allocation lines, as the ledger writes it and reads it back."""

    id: UUID
    loan_id: UUID
    bank_code: str
    bank_txn_ref: str
    amount: int
    paid_on: date
    settles: bool
    source: str
    import_id: UUID | None
    posted_by: UUID | None
    created_at: datetime
    lines: list[AllocationLine]
    reversed: bool = False


REPAYMENT_COLUMNS = tuple(f for f in RepaymentEntry.__dataclass_fields__ if f not in ("lines", "reversed"))


_REFRESH = DriverStatement.of(REFRESH_BY_IDS)


async def refresh(session: AsyncSession, loan_ids: list[UUID], today: date) -> dict[UUID, dict[str, Any]]:
    """`loans.delinquency.refresh_loans` on the driver, with the session's pending changes flushed first: every
    posting runs it."""
    rows = await _REFRESH.fetch(await driver_connection(session), {"loan_ids": loan_ids, "today": today})
    return {row["id"]: dict(row) for row in rows}


INSTALLMENT_STATES = DriverStatement.of(
    select(*(LoanInstallment.__table__.c[name] for name in InstallmentState.__dataclass_fields__))
    .where(LoanInstallment.__table__.c.loan_id == bindparam("loan_id"))
    .order_by(LoanInstallment.__table__.c.seq)
)


async def installment_states(connection: asyncpg.Connection, loan_id: UUID) -> list[InstallmentState]:
    """A loan's installments as allocation sees them, in seq order."""
    return [
        InstallmentState(*row) for row in await INSTALLMENT_STATES.fetch(connection, {"loan_id": loan_id})
    ]


# The installments of a batch's loans, except those settled and due by the batch's first payment date: nothing is
# allocated to them, and they change no allocation (tests/unit/test_allocation.py) — most of a loan's past ones.
_OPEN_STATES = f"""
SELECT {", ".join(InstallmentState.__dataclass_fields__)}, loan_id FROM installment
WHERE loan_id = ANY($1::uuid[])
  AND NOT (due_date <= $2 AND paid_principal = principal AND paid_penalty = penalty_accrued
           AND paid_interest = borrower_interest - cancelled_interest)
ORDER BY loan_id, seq
"""


async def open_installment_states(
    connection: asyncpg.Connection, loan_ids: list[UUID], first_paid_on: date
) -> dict[UUID, list[InstallmentState]]:
    """The installments of ``loan_ids`` a batch of payments dated ``first_paid_on`` or later may allocate to."""
    states: dict[UUID, list[InstallmentState]] = defaultdict(list)
    for record in await connection.fetch(_OPEN_STATES, loan_ids, first_paid_on):
        states[record[-1]].append(InstallmentState(*record[:-1]))
    return states


async def connection(session: AsyncSession) -> asyncpg.Connection:
    """The driver connection a batch is written on (see `loans.core.driver.driver_connection`)."""
    return await driver_connection(session)


async def entries(session: AsyncSession, condition: ColumnElement[bool]) -> list[RepaymentEntry]:
    """The repayments ``condition`` selects, with their lines (in seq order) and whether they are reversed, in
    date and posting order: two statements, whatever their number."""
    columns = [getattr(Repayment, c) for c in REPAYMENT_COLUMNS]
    reversed_ = exists().where(RepaymentReversal.repayment_id == Repayment.id).label("reversed")
    rows = (
        await session.execute(
            select(*columns, reversed_).where(condition).order_by(Repayment.paid_on, Repayment.created_at)
        )
    ).all()
    if not rows:
        return []
    lines: dict[UUID, list[AllocationLine]] = {row.id: [] for row in rows}
    allocation = [getattr(RepaymentAllocation, c) for c in LINE_FIELDS]
    for repayment_id, *amounts in await session.execute(
        select(RepaymentAllocation.repayment_id, *allocation)
        .join(Repayment, Repayment.id == RepaymentAllocation.repayment_id)
        .where(condition)
        .order_by(RepaymentAllocation.seq)
    ):
        lines[repayment_id].append(AllocationLine(*amounts))
    return [RepaymentEntry(*row[: len(columns)], lines=lines[row.id], reversed=row.reversed) for row in rows]


def repayment_of(bank_code: str, bank_txn_ref: str) -> ColumnElement[bool]:
    return (Repayment.bank_code == bank_code) & (Repayment.bank_txn_ref == bank_txn_ref)
