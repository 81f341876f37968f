"""Value-dated repayments: a repayment or reversal whose payment date is a business date already closed (or being
closed) is booked as if it had happened on that date (SPEC sections 3 and 4).

Close of business books day D's penalty on what is overdue once the payments dated D are in. A repayment dated D
that arrives after D was closed (a bank file always does) therefore found penalty booked for days its borrower had
already paid, and paid it before the principal; a reversal of an old repayment found the days since it uncovered
without penalty. So when the payment date P of a posting or reversal is on or before the last business date that
close of business closed or is closing (E), its loan is **replayed** from P:

1. the loan's installments are taken back to the eve of P: every standing repayment dated P or later has its
   allocation lines taken off (they are allocated again below) and the penalty booked for P or later is taken off;
2. the repayments dated P or later (the standing ones, in date and posting order, then the new one) are allocated
   again in date order with the pure allocation code, and between two payment dates each closed business date D
   books penalty as close of business would: on each installment due before D, its principal and borrower interest
   left (the base) times the penalty rate — the base does not change between two payments, so one SQL statement
   gives the day's amount of every (loan, base) pending, for all the replayed loans at once (one round per payment
   date, not per day), and the ledger rows are written by one statement over the set of loans joined to the closed
   business dates (`business_day`), never a Python loop per loan and day;
3. what differs is written: the re-allocated repayments' lines (and `settles`), the installments' paid, cancelled,
   on-time and penalty sums, the penalty ledger from P, the loan's balance, status and settlement; the delinquency
   refresh the posting runs anyway then sets DPD, bucket, class, status and the due figures the reports read.

Re-allocating every later repayment, rather than adjusting the penalty alone, is what keeps the result equal to
the same events posted on time: a payment inserted before later ones changes what they paid (they find less
penalty and earlier installments paid), and only allocating them again in order says how. A later repayment that
no longer fits (the inserted payment left it more than the loan then owed) refuses the new posting: its
reversal first, then the posting.

Only loans where something could change are replayed: a posting is replayed only if its loan has penalty booked
on P or later, or a standing repayment dated after P (otherwise allocating it now, on the stored installments, is
the same); a reversal dated P <= E is always replayed (it uncovers days). The hot path (a payment dated after E)
is untouched: no penalty is booked after E yet, so only the order of payments within the open days could differ,
and they are allocated in the order they are posted, as before. Postings, reversals and bank files write their
repayment through the ledger with the lines the replay gave it, and the ledger writes the consequences the replay
computed (`ledger.write_replays`); this module reads (on the ledger's driver connection) and computes.

Exactly once: the ledger's key (installment, date) is the one close of business inserts ON CONFLICT DO NOTHING,
and the installment's penalty is its ledger's sum, so a day E still being closed (status running), which the
replay books for the loans it replays, is not booked twice when close of business reaches them. Close of business
cannot mark a later date closed meanwhile: it locks the loans, which the replay holds.

Not replayed: the day's portfolio snapshots and reminders already sent for the closed days; a loan's days as
compensated or written off accrue nothing (as close of business skips them).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from asyncpg import Connection

from loans.lending.delinquency import penalty_per_day
from loans.repayments.allocation import Allocation, InstallmentState, Overpayment, allocate, apply_allocation

ONE_DAY = timedelta(days=1)
# The last business date close of business closed or is closing: a payment dated on or before it is value-dated.
LAST_BUSINESS_DATE = "(SELECT max(business_date) FROM business_day)"

_LINE_FIELDS = ("seq", "penalty", "interest", "principal", "cancelled_interest", "cancelled_subsidy")
_STATE_FIELDS = tuple(InstallmentState.__dataclass_fields__)
# the installment's running sums (what payments and penalty change): its fields with a default
WRITTEN_FIELDS = tuple(
    name for name, f in InstallmentState.__dataclass_fields__.items() if f.default is not dataclasses.MISSING
)


@dataclass(frozen=True, slots=True)
class Payment:
    """A repayment in a replay: a standing one (``key`` its id) or one being posted (the caller's key)."""

    key: Any
    amount: int
    paid_on: date
    standing: bool


@dataclass(slots=True)
class LoanReplay:
    """One loan replayed from ``start``, and what the replay decided."""

    loan_id: UUID
    principal: int
    status: str
    subsidy_share: Decimal
    accrues_before: date | None  # compensated or written off from then: close of business accrues nothing
    start: date
    stored: list[InstallmentState]  # as the installments are now
    states: list[InstallmentState]  # as the replay has them
    payments: list[Payment]
    stored_lines: dict[UUID, list[tuple[int, ...]]]  # the standing repayments' lines as they are
    penalty_before: int  # booked on start or later, before the replay
    allocations: dict[Any, Allocation] = field(default_factory=dict)
    # the new payments that exceed what the loan then owes, with that payoff
    refused: dict[Any, int] = field(default_factory=dict)
    conflict: Payment | None = None  # a standing repayment that no longer fits
    # the penalty booked: (seq, base, a day's amount, first and last date) of each span between payment dates
    penalty_rows: list[tuple[int, int, int, date, date]] = field(default_factory=list)
    settled_on: date | None = None

    @property
    def penalty_after(self) -> int:
        """The penalty booked on start or later by the replay."""
        change = sum(s.penalty_accrued for s in self.states) - sum(s.penalty_accrued for s in self.stored)
        return self.penalty_before + change

    @property
    def outstanding(self) -> int:
        return self.principal - sum(s.paid_principal for s in self.states)

    @property
    def principal_paid(self) -> int:
        """Principal the replay paid beyond what the installments show now (negative: less)."""
        return sum(s.paid_principal for s in self.states) - sum(s.paid_principal for s in self.stored)

    def final_status(self) -> str:
        recovering = self.status in ("compensated", "recovered")
        if self.settled_on is not None:
            return "recovered" if recovering else "settled"
        return {"settled": "active", "recovered": "compensated"}.get(self.status, self.status)

    def changed_installments(self) -> list[InstallmentState]:
        """The installments the replay changed, and those the new payments' lines touch (their posting may have
        added the lines to them already)."""
        touched = {
            line.seq
            for p in self.payments
            if not p.standing and p.key in self.allocations
            for line in self.allocations[p.key].lines
        }
        return [
            s for s, before in zip(self.states, self.stored, strict=True) if s != before or s.seq in touched
        ]

    def reallocated(self) -> dict[UUID, Allocation]:
        """The standing repayments whose lines the replay changed, with their new allocation."""
        return {
            p.key: self.allocations[p.key]
            for p in self.payments
            if p.standing and _line_tuples(self.allocations[p.key]) != self.stored_lines.get(p.key, [])
        }


def _line_tuples(allocation: Allocation) -> list[tuple[int, ...]]:
    return sorted(tuple(getattr(line, name) for name in _LINE_FIELDS) for line in allocation.lines)


_NEEDS_REPLAY = """
SELECT s.loan_id FROM unnest($1::uuid[], $2::date[]) AS s(loan_id, start)
WHERE EXISTS (SELECT FROM penalty_accrual p WHERE p.loan_id = s.loan_id AND p.accrual_date >= s.start)
   OR EXISTS (SELECT FROM repayment r WHERE r.loan_id = s.loan_id AND r.paid_on > s.start
              AND NOT EXISTS (SELECT FROM repayment_reversal v WHERE v.repayment_id = r.id))
"""


async def needing_replay(raw: Connection, starts: dict[UUID, date]) -> set[UUID]:
    """Of loans receiving payments dated ``starts`` (the earliest per loan, on or before the last business date),
    those a replay could change: with penalty booked from that date, or a standing repayment dated after it."""
    if not starts:
        return set()
    rows = await raw.fetch(_NEEDS_REPLAY, list(starts), list(starts.values()))
    return {row[0] for row in rows}


async def last_business_date(raw: Connection) -> date | None:
    return await raw.fetchval(f"SELECT {LAST_BUSINESS_DATE}")


_STARTS = "unnest($1::uuid[], $2::date[]) AS s(loan_id, start)"
_READ_LOANS = f"""
SELECT l.id, l.principal, l.status, l.subsidy_share, LEAST(l.compensated_on, l.written_off_on)
FROM loan l JOIN {_STARTS} ON s.loan_id = l.id
"""
_READ_INSTALLMENTS = f"""
SELECT i.loan_id, {", ".join(f"i.{name}" for name in _STATE_FIELDS)}
FROM installment i JOIN {_STARTS} ON s.loan_id = i.loan_id ORDER BY i.loan_id, i.seq
"""
_READ_STANDING = f"""
SELECT r.loan_id, r.id, r.amount, r.paid_on, {", ".join(f"a.{name}" for name in _LINE_FIELDS)}
FROM repayment r JOIN {_STARTS} ON s.loan_id = r.loan_id
LEFT JOIN repayment_allocation a ON a.repayment_id = r.id
WHERE r.paid_on >= s.start AND NOT EXISTS (SELECT FROM repayment_reversal v WHERE v.repayment_id = r.id)
ORDER BY r.loan_id, r.paid_on, r.created_at, r.id, a.seq
"""
_READ_PENALTY = f"""
SELECT p.loan_id, p.seq, sum(p.amount)::bigint FROM penalty_accrual p JOIN {_STARTS} ON s.loan_id = p.loan_id
WHERE p.accrual_date >= s.start GROUP BY p.loan_id, p.seq
"""
_READ_DAYS = (
    "SELECT business_date FROM business_day WHERE business_date BETWEEN $1 AND $2 ORDER BY business_date"
)
_DAILY_PENALTY = f"""
SELECT x.loan_id, x.base, {penalty_per_day("x.base")}::bigint
FROM unnest($1::uuid[], $2::bigint[]) AS x(loan_id, base) JOIN loan l ON l.id = x.loan_id
"""


async def replay(
    raw: Connection, starts: dict[UUID, date], new: dict[UUID, list[Payment]], through: date
) -> dict[UUID, LoanReplay]:
    """Replay each loan of ``starts`` from its date through ``through`` (the last business date) with its standing
    repayments dated then or later and its ``new`` payments (in their order, after the standing ones of their
    date). Reads and computes; writes nothing (see `ledger.write_replays`)."""
    arguments = (list(starts), list(starts.values()))
    installments: dict[UUID, list[InstallmentState]] = {loan_id: [] for loan_id in starts}
    for row in await raw.fetch(_READ_INSTALLMENTS, *arguments):
        installments[row[0]].append(InstallmentState(*row[1:]))
    standing: dict[UUID, list[Payment]] = {loan_id: [] for loan_id in starts}
    stored_lines: dict[UUID, dict[UUID, list[tuple[int, ...]]]] = {loan_id: {} for loan_id in starts}
    for row in await raw.fetch(_READ_STANDING, *arguments):
        loan_id, repayment_id = row[0], row[1]
        lines = stored_lines[loan_id]
        if repayment_id not in lines:
            lines[repayment_id] = []
            standing[loan_id].append(Payment(repayment_id, row[2], row[3], standing=True))
        if row[4] is not None:
            lines[repayment_id].append(tuple(row[4:]))
    penalty: dict[UUID, dict[int, int]] = {loan_id: {} for loan_id in starts}
    for loan_id, seq, amount in await raw.fetch(_READ_PENALTY, *arguments):
        penalty[loan_id][seq] = amount
    loans = []
    for loan_id, principal, status, subsidy_share, accrues_before in await raw.fetch(_READ_LOANS, *arguments):
        stored = installments[loan_id]
        payments = sorted(standing[loan_id] + new.get(loan_id, []), key=lambda p: (p.paid_on, not p.standing))
        loans.append(
            LoanReplay(
                loan_id=loan_id,
                principal=principal,
                status=status,
                subsidy_share=subsidy_share,
                accrues_before=accrues_before,
                start=starts[loan_id],
                stored=stored,
                states=_before(stored, stored_lines[loan_id].values(), standing[loan_id], penalty[loan_id]),
                payments=payments,
                stored_lines=stored_lines[loan_id],
                penalty_before=sum(penalty[loan_id].values()),
            )
        )
    days = [row[0] for row in await raw.fetch(_READ_DAYS, min(starts.values()), through)]
    await _run(raw, loans, days, through)
    return {loan.loan_id: loan for loan in loans}


def _before(
    stored: list[InstallmentState],
    lines_by_repayment: Iterable[list[tuple[int, ...]]],
    standing: list[Payment],
    penalty_from_start: dict[int, int],
) -> list[InstallmentState]:
    """The installments on the eve of the replay: without the standing repayments it allocates again and without
    the penalty booked from its first day."""
    taken: dict[int, dict[str, int]] = {}
    due_dates = {state.seq: state.due_date for state in stored}
    for payment, lines in zip(standing, lines_by_repayment, strict=True):
        for seq, penalty, interest, principal, cancelled_interest, cancelled_subsidy in lines:
            sums = taken.setdefault(seq, dict.fromkeys(WRITTEN_FIELDS, 0))
            sums["paid_penalty"] += penalty
            sums["paid_interest"] += interest
            sums["paid_principal"] += principal
            sums["cancelled_interest"] += cancelled_interest
            sums["cancelled_subsidy"] += cancelled_subsidy
            sums["on_time_principal"] += principal if payment.paid_on <= due_dates[seq] else 0
    for seq, amount in penalty_from_start.items():
        taken.setdefault(seq, dict.fromkeys(WRITTEN_FIELDS, 0))["penalty_accrued"] += amount
    result = []
    for state in stored:
        sums = taken.get(state.seq)
        if sums is None:
            result.append(dataclasses.replace(state))
        else:
            result.append(
                dataclasses.replace(
                    state, **{name: getattr(state, name) - sums[name] for name in WRITTEN_FIELDS}
                )
            )
    return result


async def _run(raw: Connection, loans: list[LoanReplay], days: list[date], through: date) -> None:
    """Payment date by payment date, for all loans at once: book the closed days before each loan's next payment
    date, then allocate that date's payments."""
    daily: dict[tuple[UUID, int], int] = {}
    position = dict.fromkeys((loan.loan_id for loan in loans), 0)
    accrued_from = {loan.loan_id: loan.start for loan in loans}
    pending = list(loans)
    while pending:
        accruals = []
        for loan in pending:
            next_index = position[loan.loan_id]
            until = (
                loan.payments[next_index].paid_on - ONE_DAY if next_index < len(loan.payments) else through
            )
            if loan.accrues_before is not None:
                until = min(until, loan.accrues_before - ONE_DAY)
            for index, state in enumerate(loan.states):
                base = state.principal_left + state.interest_left
                low = max(accrued_from[loan.loan_id], state.due_date + ONE_DAY)
                if base <= 0 or low > until:
                    continue
                count = bisect.bisect_right(days, until) - bisect.bisect_left(days, low)
                if count:
                    accruals.append((loan, index, base, low, until, count))
        missing = {(loan.loan_id, base) for loan, _, base, *_ in accruals} - daily.keys()
        if missing:
            ids, bases = zip(*missing, strict=True)
            for loan_id, base, amount in await raw.fetch(_DAILY_PENALTY, list(ids), list(bases)):
                daily[loan_id, base] = amount
        for loan, index, base, low, until, count in accruals:
            # booked even when it rounds to nothing, as close of business books it
            amount, state = daily[loan.loan_id, base], loan.states[index]
            loan.states[index] = dataclasses.replace(
                state, penalty_accrued=state.penalty_accrued + amount * count
            )
            loan.penalty_rows.append((state.seq, base, amount, low, until))
        still = []
        for loan in pending:
            next_index = position[loan.loan_id]
            if next_index == len(loan.payments):
                continue
            day = loan.payments[next_index].paid_on
            while next_index < len(loan.payments) and loan.payments[next_index].paid_on == day:
                _allocate(loan, loan.payments[next_index])
                next_index += 1
            position[loan.loan_id], accrued_from[loan.loan_id] = next_index, day
            if loan.conflict is None:
                still.append(loan)
        pending = still


def _allocate(loan: LoanReplay, payment: Payment) -> None:
    if loan.conflict is not None:
        return
    try:
        allocation = allocate(loan.states, payment.amount, payment.paid_on, loan.subsidy_share)
    except Overpayment as exc:
        if payment.standing:
            loan.conflict = payment
        else:
            loan.refused[payment.key] = exc.payoff
        return
    loan.allocations[payment.key] = allocation
    loan.states = apply_allocation(loan.states, allocation, payment.paid_on)
    if allocation.settles:
        loan.settled_on = payment.paid_on
