"""How one repayment is allocated over a loan's installments (SPEC section 4). Pure calculation.

Rules (also in the README):
- installments due on or before the payment date are paid oldest first, each penalty → borrower
  interest → principal;
- what remains pays the next installment (its borrower interest, then principal) early;
- anything beyond that is a partial prepayment of principal, taken from the last installment
  backwards; the interest of every later period falls in proportion to the principal it no longer
  bears (interest is linear in the outstanding principal for every method), and the difference is
  cancelled (borrower and subsidy parts alike);
- paying exactly the whole outstanding settles the loan: interest counts only up to the payment date
  (the current period's interest pro rata by days), the rest of the scheduled interest is cancelled;
- paying more than that is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from loans.lending.schedule import split_interest
from loans.money import round_ratio


@dataclass(slots=True)
class InstallmentState:
    """An installment as allocation sees it. Not changed in place (`apply_allocation` makes new ones); not frozen
    either, since a frozen dataclass's construction costs a bank file's import a fifth of its allocation time."""

    seq: int
    period_start: date
    due_date: date
    principal: int
    interest: int
    subsidy_interest: int
    borrower_interest: int
    paid_principal: int = 0
    paid_interest: int = 0
    paid_penalty: int = 0
    penalty_accrued: int = 0
    cancelled_interest: int = 0
    cancelled_subsidy: int = 0
    on_time_principal: int = 0  # principal paid by repayments dated on or before the due date

    @property
    def principal_left(self) -> int:
        return self.principal - self.paid_principal

    @property
    def borrower_interest_due(self) -> int:
        """Borrower interest still scheduled (after cancellations)."""
        return self.borrower_interest - self.cancelled_interest

    @property
    def subsidy_due(self) -> int:
        return self.subsidy_interest - self.cancelled_subsidy

    @property
    def interest_left(self) -> int:
        return self.borrower_interest_due - self.paid_interest

    @property
    def penalty_left(self) -> int:
        return self.penalty_accrued - self.paid_penalty

    @property
    def amount_left(self) -> int:
        return self.principal_left + self.interest_left + self.penalty_left


@dataclass(slots=True)
class AllocationLine:
    seq: int
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    cancelled_interest: int = 0
    cancelled_subsidy: int = 0

    @property
    def paid(self) -> int:
        return self.penalty + self.interest + self.principal

    def is_empty(self) -> bool:
        return not (self.paid or self.cancelled_interest or self.cancelled_subsidy)

    def amounts(self) -> dict[str, int]:
        """The line's columns as stored in repayment_allocation."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(slots=True)
class Allocation:
    lines: list[AllocationLine] = field(default_factory=list)
    settles: bool = False


class Overpayment(ValueError):
    def __init__(self, payoff: int) -> None:
        super().__init__(f"payment exceeds the total outstanding of {payoff} fen")
        self.payoff = payoff


def _pro_rata(amount: int, numerator: int, denominator: int) -> int:
    if denominator <= 0 or numerator >= denominator:
        return amount
    return round_ratio(amount * numerator, denominator)


def _settlement_line(row: InstallmentState, paid_on: date, subsidy_share: Decimal) -> AllocationLine:
    """What settling on ``paid_on`` takes from, and cancels on, one installment."""
    line = AllocationLine(row.seq, penalty=row.penalty_left, principal=row.principal_left)
    if row.due_date <= paid_on:
        line.interest = row.interest_left
        return line
    elapsed = max((paid_on - row.period_start).days, 0)
    period = (row.due_date - row.period_start).days
    accrued_subsidy, accrued_borrower = split_interest(
        _pro_rata(row.borrower_interest_due + row.subsidy_due, elapsed, period), subsidy_share
    )
    borrower_owed = max(accrued_borrower, row.paid_interest)
    line.interest = borrower_owed - row.paid_interest
    line.cancelled_interest = row.borrower_interest_due - borrower_owed
    line.cancelled_subsidy = max(row.subsidy_due - accrued_subsidy, 0)
    return line


def payoff_amount(installments: list[InstallmentState], paid_on: date, subsidy_share: Decimal) -> int:
    """What settling on ``paid_on`` costs: every principal and penalty left, the interest left on installments
    due by then, and the current period's interest accrued to the day. Installments after the current one
    have accrued nothing, so only one settlement line needs the pro-rata arithmetic."""
    total, current = 0, None
    for row in installments:
        total += row.principal_left + row.penalty_left
        if row.due_date <= paid_on:
            total += row.interest_left
        elif current is None or row.seq < current.seq:
            current = row
    if current is not None:
        total += _settlement_line(current, paid_on, subsidy_share).interest
    return total


def allocate(
    installments: list[InstallmentState], amount: int, paid_on: date, subsidy_share: Decimal
) -> Allocation:
    """Allocate ``amount`` (fen, > 0) paid on ``paid_on`` over the installments, ordered by seq (as they are read,
    and as `apply_allocation` returns them)."""
    rows = installments
    # The payoff is at least the principal left (nothing else it adds is negative): a payment below that neither
    # settles nor overpays, and most payments are, so the payoff's pro-rata arithmetic is left out for them.
    if amount >= sum([r.principal - r.paid_principal for r in rows]):
        payoff = payoff_amount(rows, paid_on, subsidy_share)
        if amount > payoff:
            raise Overpayment(payoff)
        if amount == payoff:
            settlement = (_settlement_line(r, paid_on, subsidy_share) for r in rows)
            return Allocation([line for line in settlement if not line.is_empty()], settles=True)

    lines: list[AllocationLine] = []
    remaining = amount
    due = [r for r in rows if r.due_date <= paid_on]
    upcoming = [r for r in rows if r.due_date > paid_on]
    for row in due + upcoming[:1]:
        if row.amount_left == 0:
            continue
        line = AllocationLine(row.seq)
        line.penalty = min(row.penalty_left, remaining)
        remaining -= line.penalty
        line.interest = min(row.interest_left, remaining)
        remaining -= line.interest
        line.principal = min(row.principal_left, remaining)
        remaining -= line.principal
        lines.append(line)
        if remaining == 0:
            break
    if remaining > 0:
        lines += _prepay_principal(upcoming[1:], remaining, subsidy_share)
    return Allocation(lines, settles=False)


def _prepay_principal(
    later: list[InstallmentState], amount: int, subsidy_share: Decimal
) -> list[AllocationLine]:
    """Prepay principal from the last installment backwards, and cut each later period's interest in proportion to
    the principal it no longer bears; the lines in seq order. The outstanding during period j is the principal of
    installments j and later, so one pass from the last installment has both it and what is prepaid from it."""
    lines = []
    remaining = amount
    outstanding_before = outstanding_after = 0
    for row in reversed(later):
        left = row.principal_left
        taken = min(left, remaining)
        remaining -= taken
        outstanding_before += left
        outstanding_after += left - taken
        borrower_due, subsidy_due = row.borrower_interest_due, row.subsidy_due
        new_subsidy, new_borrower = split_interest(
            _pro_rata(borrower_due + subsidy_due, outstanding_after, outstanding_before), subsidy_share
        )
        cancelled_interest = borrower_due - max(new_borrower, row.paid_interest)
        cancelled_subsidy = max(subsidy_due - new_subsidy, 0)
        if taken or cancelled_interest or cancelled_subsidy:
            lines.append(
                AllocationLine(
                    row.seq,
                    principal=taken,
                    cancelled_interest=cancelled_interest,
                    cancelled_subsidy=cancelled_subsidy,
                )
            )
    lines.reverse()
    return lines


def apply_allocation(
    installments: list[InstallmentState], allocation: Allocation, paid_on: date
) -> list[InstallmentState]:
    """The installments after ``allocation``, paid on ``paid_on``, is posted (for allocating several repayments
    in a row)."""
    by_seq = {line.seq: line for line in allocation.lines}
    result = []
    for row in installments:
        line = by_seq.get(row.seq)
        if line is None:
            result.append(row)
            continue
        # built field by field: `dataclasses.replace` inspects the fields at every call, and a bank file's
        # import makes one per line of every repayment
        result.append(
            InstallmentState(
                row.seq,
                row.period_start,
                row.due_date,
                row.principal,
                row.interest,
                row.subsidy_interest,
                row.borrower_interest,
                paid_principal=row.paid_principal + line.principal,
                paid_interest=row.paid_interest + line.interest,
                paid_penalty=row.paid_penalty + line.penalty,
                penalty_accrued=row.penalty_accrued,
                cancelled_interest=row.cancelled_interest + line.cancelled_interest,
                cancelled_subsidy=row.cancelled_subsidy + line.cancelled_subsidy,
                on_time_principal=row.on_time_principal + (line.principal if paid_on <= row.due_date else 0),
            )
        )
    return result
