"""Posting one batch of a bank file's rows, in the caller's transaction: each row's outcome decided, the postable
rows allocated per loan in date order (in a thread, beside the other batch in flight) and written through the
ledger in one statement (loans/repayments/ledger.py). The rows' outcomes are written by COPY on the ledger's
driver connection: thousands of rows a batch, which SQLAlchemy's inserts would take seconds over."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import polars as pl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.db import fresh
from loans.core.roles import Role
from loans.funds.compensation import record_recovery
from loans.lending.models import Loan
from loans.money import fen_to_str
from loans.repayments import ledger
from loans.repayments.allocation import Allocation, InstallmentState, Overpayment, allocate, apply_allocation
from loans.repayments.ledger import Author, Batch
from loans.repayments.models import Repayment
from loans.repayments.service import POSTABLE_STATUSES
from loans.repayments.value_dating import LoanReplay, Payment, last_business_date, needing_replay, replay


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

    raw = await ledger.connection(session)
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
IMPORTER = "import"  # the author the batches' audit events name, beside the uploader's id


@dataclass(slots=True)
class _Postings:
    """What allocating a batch's postable rows decided: each row's outcome, and the ledger's batch."""

    batch: Batch
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    settled: set[UUID] = field(default_factory=set)
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
    that the other batch in flight is written meanwhile), then write them through the ledger. The loans whose rows
    are dated on or before the last business date, where a replay could change anything, are replayed from their
    first row's date instead (value_dating.py)."""
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
        states = await ledger.open_installment_states(raw, list(in_place), first_paid_on)
    postings = _Postings(Batch(Author(keys.uploaded_by, IMPORTER, Role.BANK_LIAISON.value)))
    await asyncio.to_thread(_allocate_rows, postings, keys, in_place, states, postable)
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
    if len(postings.batch):
        await _write_postings(session, raw, postings, today, replays)
    return postings.outcomes


def _allocate_rows(
    postings: _Postings,
    keys: ImportKeys,
    loans: dict[UUID, tuple[str, Decimal]],
    states: dict[UUID, list[InstallmentState]],
    postable: dict[UUID, list[dict[str, Any]]],
) -> None:
    """Each loan's rows in date order over its installments (``states``, by loan: status and subsidy share)."""
    outcomes = postings.outcomes
    for loan_id, (status, subsidy_share) in loans.items():  # in the locked read's order, by id
        due_dates = {s.seq: s.due_date for s in states[loan_id]}
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
            _post_row(postings, keys, loan_id, status, row, allocation, due_dates)


def _exceeds(row_no: int, payoff: int) -> Outcome:
    return Outcome(row_no, "rejected", f"exceeds the outstanding {fen_to_str(payoff)} / 超过应还总额")


def _post_row(
    postings: _Postings,
    keys: ImportKeys,
    loan_id: UUID,
    status: str,
    row: dict[str, Any],
    allocation: Allocation,
    due_dates: dict[int, date],
) -> None:
    """One posted row added to the ledger's batch, and its outcome."""
    entry = postings.batch.post(
        loan_id, keys.bank_code, row["bank_txn_ref"], row["amount"], row["paid_on"], allocation, due_dates,
        source="import", import_id=keys.id, posted_by=keys.uploaded_by,
        settled_status="recovered" if status == "compensated" else "settled",
        event={"amount": row["amount"], "import_id": keys.id, "bank_txn_ref": row["bank_txn_ref"],
               "paid_on": row["paid_on"]},
    )  # fmt: skip
    if status == "compensated":
        postings.recoveries.append((loan_id, row["amount"], row["paid_on"], row["bank_txn_ref"]))
    if allocation.settles:
        postings.settled.add(loan_id)
    row_no = row["row_no"]
    postings.outcomes[row_no] = Outcome(row_no, "posted", None, entry.id)


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
    written = []
    for replayed in replays:
        loan_id = replayed.loan_id
        due_dates = {s.seq: s.due_date for s in replayed.states}
        for row in postable[loan_id]:
            row_no = row["row_no"]
            if replayed.conflict is not None:
                postings.outcomes[row_no] = Outcome(row_no, "rejected", _LATER_REPAYMENT_EXCEEDS)
            elif row_no in replayed.refused:
                postings.outcomes[row_no] = _exceeds(row_no, replayed.refused[row_no])
            else:
                allocation = replayed.allocations[row_no]
                _post_row(postings, keys, loan_id, replayed.status, row, allocation, due_dates)
        if replayed.conflict is None and len(replayed.refused) < len(postable[loan_id]):
            written.append(replayed)
    return written


async def _write_postings(
    session: AsyncSession, raw: Any, postings: _Postings, today: date, replays: list[LoanReplay]
) -> None:
    batch = postings.batch
    await ledger.write(raw, batch)
    if postings.recoveries:
        compensated = {
            loan.id: loan
            for loan in await session.scalars(
                fresh(select(Loan).where(Loan.id.in_({loan_id for loan_id, *_ in postings.recoveries})))
            )
        }
        for loan_id, amount, paid_on, reference in postings.recoveries:
            await record_recovery(session, compensated[loan_id], amount, paid_on, reference)
    # the replayed loans' installments, penalty and other repayments, set as the replay has them
    await ledger.write_replays(raw, replays, batch.author)
    await ledger.refresh(session, list(batch.loans), today)
