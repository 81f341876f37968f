"""Posting one batch of a bank file's rows, in the caller's transaction: each row's outcome decided, the postable
rows allocated per loan in date order (in a thread, beside the other batch in flight) and written in bulk."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import polars as pl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from loans.core.db import fresh
from loans.core.driver import driver_connection
from loans.core.roles import Role
from loans.funds.compensation import record_recovery
from loans.loans.delinquency import refresh_loans
from loans.loans.models import Loan
from loans.money import fen_to_str
from loans.repayments.allocation import Allocation, InstallmentState, Overpayment, allocate, apply_allocation
from loans.repayments.models import Repayment
from loans.repayments.service import POSTABLE_STATUSES
from loans.repayments.value_dating import (
    Author,
    LoanReplay,
    Payment,
    last_business_date,
    needing_replay,
    replay,
    write_replays,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    row_no: int
    outcome: str
    reason: str | None = None
    repayment_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class ImportKeys:
    """What each batch's writes need of the import, as plain values (the batches run on two sessions)."""

    id: UUID
    bank_code: str
    uploaded_by: UUID | None


async def post_batch(session: AsyncSession, keys: ImportKeys, frame: pl.DataFrame, today: date) -> None:
    rows = frame.to_dicts()
    outcomes: dict[int, Outcome] = {
        r["row_no"]: Outcome(r["row_no"], r["outcome"], r["reason"]) for r in rows if r["outcome"]
    }
    candidates = [r for r in rows if not r["outcome"]]
    loans = {
        contract: (loan_id, status, disbursed_on)
        for contract, loan_id, status, disbursed_on in await session.execute(
            select(Loan.contract_no, Loan.id, Loan.status, Loan.disbursed_on).where(
                Loan.bank_code == keys.bank_code,
                Loan.contract_no.in_({r["contract_no"] for r in candidates}),
            )
        )
    }
    existing = {
        ref: (rid, loan_id, amount, paid_on)
        for ref, rid, loan_id, amount, paid_on in await session.execute(
            select(
                Repayment.bank_txn_ref, Repayment.id, Repayment.loan_id, Repayment.amount, Repayment.paid_on
            ).where(
                Repayment.bank_code == keys.bank_code,
                Repayment.bank_txn_ref.in_({r["bank_txn_ref"] for r in candidates}),
            )
        )
    }
    postable: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in candidates:
        row_no, loan = row["row_no"], loans.get(row["contract_no"])
        if row["bank_txn_ref"] in existing:
            rid, *first = existing[row["bank_txn_ref"]]
            same = tuple(first) == (loan[0] if loan else None, row["amount"], row["paid_on"])
            outcomes[row_no] = (
                Outcome(row_no, "duplicate", "already posted / 已入账", rid)
                if same
                else Outcome(
                    row_no, "rejected", "reference already used with other content / 流水号已用于其他还款"
                )
            )
        elif loan is None:
            outcomes[row_no] = Outcome(row_no, "rejected", "unknown contract number / 合同编号不存在")
        elif loan[1] not in POSTABLE_STATUSES:
            outcomes[row_no] = Outcome(row_no, "rejected", f"loan is {loan[1]} / 贷款状态为 {loan[1]}")
        elif row["paid_on"] < loan[2]:
            outcomes[row_no] = Outcome(row_no, "rejected", "paid before disbursement / 还款日期早于放款日期")
        else:
            postable[loan[0]].append(row)

    raw = await driver_connection(session)
    if postable:
        outcomes.update(await _allocate_and_write(session, raw, keys, postable, today))
    await raw.copy_records_to_table(
        "import_row",
        columns=IMPORT_ROW_COLUMNS,
        records=[
            (
                keys.id,
                r["row_no"],
                r["contract_no"],
                r["bank_txn_ref"],
                r["paid_on"],
                r["amount"],
                outcomes[r["row_no"]].outcome,
                outcomes[r["row_no"]].reason,
                outcomes[r["row_no"]].repayment_id,
            )
            for r in rows
        ],
    )


IMPORT_ROW_COLUMNS = (
    "import_id",
    "row_no",
    "contract_no",
    "bank_txn_ref",
    "paid_on",
    "amount",
    "outcome",
    "reason",
    "repayment_id",
)
REPAYMENT_COLUMNS = (
    "id",
    "loan_id",
    "bank_code",
    "bank_txn_ref",
    "amount",
    "paid_on",
    "settles",
    "source",
    "import_id",
    "posted_by",
    "created_at",
    "updated_at",
)
ALLOCATION_COLUMNS = (
    "repayment_id",
    "loan_id",
    "paid_on",
    "seq",
    "penalty",
    "interest",
    "principal",
    "cancelled_interest",
    "cancelled_subsidy",
)
AUDIT_COLUMNS = ("actor_id", "actor", "role", "entity_type", "entity_id", "action", "after")

# The batch's installments, read by the driver (SQLAlchemy's rows cost seconds here), except those settled and due
# by the batch's first payment date: nothing is allocated to them, and they change no allocation
# (tests/unit/test_allocation.py) — most of a loan's past installments.
_READ_STATES = f"""
SELECT {", ".join(InstallmentState.__dataclass_fields__)}, loan_id FROM installment
WHERE loan_id = ANY($1::uuid[])
  AND NOT (due_date <= $2 AND paid_principal = principal AND paid_penalty = penalty_accrued
           AND paid_interest = borrower_interest - cancelled_interest)
ORDER BY loan_id, seq
"""
_WRITE_INSTALLMENTS = """
UPDATE installment i SET paid_penalty = u.paid_penalty, paid_interest = u.paid_interest,
       paid_principal = u.paid_principal, cancelled_interest = u.cancelled_interest,
       cancelled_subsidy = u.cancelled_subsidy, on_time_principal = u.on_time_principal
FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
            $8::bigint[])
     AS u(loan_id, seq, paid_penalty, paid_interest, paid_principal, cancelled_interest, cancelled_subsidy,
          on_time_principal)
WHERE i.loan_id = u.loan_id AND i.seq = u.seq
"""
_WRITE_LOANS = """
UPDATE loan l SET outstanding_principal = l.outstanding_principal - u.paid,
       status = COALESCE(u.status, l.status), settled_on = COALESCE(u.settled_on, l.settled_on)
FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::date[]) AS u(id, paid, status, settled_on)
WHERE l.id = u.id
"""


@dataclass(slots=True)
class _Postings:
    """What allocating a batch's postable rows decided, as the rows the writes take."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    repayments: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    installments: list[tuple[Any, ...]] = field(default_factory=list)
    paid_by_loan: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))
    settled: dict[UUID, tuple[date, str]] = field(default_factory=dict)
    recoveries: list[tuple[UUID, int, date, str]] = field(
        default_factory=list
    )  # loan, amount, paid on, reference


async def _allocate_and_write(
    session: AsyncSession,
    raw: Any,
    keys: ImportKeys,
    postable: dict[UUID, list[dict[str, Any]]],
    today: date,
) -> dict[int, Outcome]:
    """Lock the batch's loans (one statement), allocate each loan's rows in date order in memory (in a thread, so
    that the other batch in flight is written meanwhile), then write repayments, allocations, audit events,
    installments and loans in bulk. The loans whose rows are dated on or before the last business date, where a
    replay could change anything, are replayed from their first row's date instead (value_dating.py)."""
    loan_ids = sorted(postable, key=str)
    loans = {
        loan_id: (status, subsidy_share)
        for loan_id, status, subsidy_share in await session.execute(
            select(Loan.id, Loan.status, Loan.subsidy_share)
            .where(Loan.id.in_(loan_ids))
            .order_by(Loan.id)
            .with_for_update()
        )
    }
    through = await last_business_date(raw)
    starts = {}
    if through is not None:
        for loan_id, (status, _share) in loans.items():
            first = min(row["paid_on"] for row in postable[loan_id])
            if first <= through and status in POSTABLE_STATUSES:
                starts[loan_id] = first
    replayed = await needing_replay(raw, starts)
    in_place = {loan_id: terms for loan_id, terms in loans.items() if loan_id not in replayed}
    states: dict[UUID, list[InstallmentState]] = defaultdict(list)
    if in_place:
        first_paid_on = min(row["paid_on"] for loan_id in in_place for row in postable[loan_id])
        for record in await raw.fetch(_READ_STATES, list(in_place), first_paid_on):
            states[record[-1]].append(InstallmentState(*record[:-1]))
    postings = await asyncio.to_thread(_allocate_rows, keys, in_place, states, postable)
    replays = []
    if replayed:
        new = {
            loan_id: [
                Payment(row["row_no"], row["amount"], row["paid_on"], standing=False)
                for row in sorted(postable[loan_id], key=lambda r: (r["paid_on"], r["row_no"]))
            ]
            for loan_id in replayed
        }
        by_loan = await replay(raw, {loan_id: starts[loan_id] for loan_id in replayed}, new, through)
        replays = _add_replays(keys, by_loan.values(), postable, postings)
    if postings.repayments:
        await _write_postings(
            session,
            raw,
            postings,
            today,
            replays,
            Author(keys.uploaded_by, "import", Role.BANK_LIAISON.value),
        )
    return postings.outcomes


def _allocate_rows(
    keys: ImportKeys,
    loans: dict[UUID, tuple[str, Decimal]],
    states: dict[UUID, list[InstallmentState]],
    postable: dict[UUID, list[dict[str, Any]]],
) -> _Postings:
    """Each loan's rows in date order over its installments (``states``, by loan: status and subsidy share)."""
    postings = _Postings()
    outcomes = postings.outcomes
    now = datetime.now(UTC)
    for loan_id, (status, subsidy_share) in loans.items():  # in the locked read's order, by id
        changed: set[int] = set()
        for row in sorted(postable[loan_id], key=lambda r: (r["paid_on"], r["row_no"])):
            row_no = row["row_no"]
            if (
                status not in POSTABLE_STATUSES
            ):  # changed since the batch was sorted, before the lock was held
                outcomes[row_no] = Outcome(row_no, "rejected", f"loan is {status} / 贷款状态为 {status}")
                continue
            if loan_id in postings.settled:
                outcomes[row_no] = Outcome(row_no, "rejected", "loan already settled / 贷款已结清")
                continue
            try:
                allocation = allocate(states[loan_id], row["amount"], row["paid_on"], subsidy_share)
            except Overpayment as exc:
                outcomes[row_no] = _exceeds(row_no, exc.payoff)
                continue
            states[loan_id] = apply_allocation(states[loan_id], allocation, row["paid_on"])
            changed.update(line.seq for line in allocation.lines)
            _post_row(postings, keys, loan_id, status, row, allocation, now)
        postings.installments.extend(
            (
                loan_id,
                s.seq,
                s.paid_penalty,
                s.paid_interest,
                s.paid_principal,
                s.cancelled_interest,
                s.cancelled_subsidy,
                s.on_time_principal,
            )
            for s in states[loan_id]
            if s.seq in changed
        )
    return postings


def _exceeds(row_no: int, payoff: int) -> Outcome:
    return Outcome(row_no, "rejected", f"exceeds the outstanding {fen_to_str(payoff)} / 超过应还总额")


def _post_row(
    postings: _Postings,
    keys: ImportKeys,
    loan_id: UUID,
    status: str,
    row: dict[str, Any],
    allocation: Allocation,
    now: datetime,
) -> None:
    """One posted row's repayment, allocation lines, audit event and outcome, added to the batch's writes."""
    repayment_id = uuid7()
    postings.repayments.append(
        (
            repayment_id,
            loan_id,
            keys.bank_code,
            row["bank_txn_ref"],
            row["amount"],
            row["paid_on"],
            allocation.settles,
            "import",
            keys.id,
            keys.uploaded_by,
            now,
            now,
        )
    )
    postings.lines.extend(
        (
            repayment_id,
            loan_id,
            row["paid_on"],
            line.seq,
            line.penalty,
            line.interest,
            line.principal,
            line.cancelled_interest,
            line.cancelled_subsidy,
        )
        for line in allocation.lines
    )
    postings.paid_by_loan[loan_id] += sum(line.principal for line in allocation.lines)
    if status == "compensated":
        postings.recoveries.append((loan_id, row["amount"], row["paid_on"], row["bank_txn_ref"]))
    if allocation.settles:
        postings.settled[loan_id] = (row["paid_on"], "recovered" if status == "compensated" else "settled")
    postings.events.append(
        (
            keys.uploaded_by,
            "import",
            Role.BANK_LIAISON.value,
            "loan",
            str(loan_id),
            "post_repayment",
            msgspec.json.encode(  # ids and the date as json.dumps of their str() would, in a tenth of its time
                {
                    "repayment_id": repayment_id,
                    "amount": row["amount"],
                    "import_id": keys.id,
                    "bank_txn_ref": row["bank_txn_ref"],
                    "paid_on": row["paid_on"],
                }
            ).decode(),
        )
    )
    row_no = row["row_no"]
    postings.outcomes[row_no] = Outcome(row_no, "posted", None, repayment_id)


_LATER_REPAYMENT_EXCEEDS = (
    "a later repayment would exceed what the loan owed / 之后的还款将超过当时的应还金额"
)


def _add_replays(
    keys: ImportKeys,
    replays: Iterable[LoanReplay],
    postable: dict[UUID, list[dict[str, Any]]],
    postings: _Postings,
) -> list[LoanReplay]:
    """The replayed loans' rows as the replay allocated them (a row the loan could not take, refused); returns the
    replays to write: those that posted a row. A loan whose later standing repayment would no longer fit posts
    none of its rows."""
    now = datetime.now(UTC)
    written = []
    for replayed in replays:
        loan_id = replayed.loan_id
        for row in postable[loan_id]:
            row_no = row["row_no"]
            if replayed.conflict is not None:
                postings.outcomes[row_no] = Outcome(row_no, "rejected", _LATER_REPAYMENT_EXCEEDS)
            elif row_no in replayed.refused:
                postings.outcomes[row_no] = _exceeds(row_no, replayed.refused[row_no])
            else:
                _post_row(postings, keys, loan_id, replayed.status, row, replayed.allocations[row_no], now)
        if replayed.conflict is None and len(replayed.refused) < len(postable[loan_id]):
            postings.paid_by_loan[loan_id] = replayed.principal_paid
            if replayed.settled_on is not None:
                postings.settled[loan_id] = (replayed.settled_on, replayed.final_status())
            written.append(replayed)
    return written


async def _write_postings(
    session: AsyncSession,
    raw: Any,
    postings: _Postings,
    today: date,
    replays: list[LoanReplay],
    author: Author,
) -> None:
    await raw.copy_records_to_table("repayment", columns=REPAYMENT_COLUMNS, records=postings.repayments)
    await raw.copy_records_to_table(
        "repayment_allocation", columns=ALLOCATION_COLUMNS, records=postings.lines
    )
    await raw.copy_records_to_table("audit_event", columns=AUDIT_COLUMNS, records=postings.events)
    if postings.installments:
        await raw.execute(_WRITE_INSTALLMENTS, *map(list, zip(*postings.installments, strict=True)))
    paid_by_loan, settled = postings.paid_by_loan, postings.settled
    await raw.execute(
        _WRITE_LOANS,
        list(paid_by_loan),
        list(paid_by_loan.values()),
        [settled.get(i, (None, None))[1] for i in paid_by_loan],
        [settled.get(i, (None, None))[0] for i in paid_by_loan],
    )
    if postings.recoveries:
        compensated = {
            loan.id: loan
            for loan in await session.scalars(
                fresh(select(Loan).where(Loan.id.in_({loan_id for loan_id, *_ in postings.recoveries})))
            )
        }
        for loan_id, amount, paid_on, reference in postings.recoveries:
            await record_recovery(session, compensated[loan_id], amount, paid_on, reference)
        await session.flush()  # before the refresh reads the loans
    # the replayed loans' installments, penalty and other repayments (their installments are written there)
    await write_replays(raw, replays, author)
    await refresh_loans(session, list(paid_by_loan), today)
