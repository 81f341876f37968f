"""Allocation of a repayment over the installments (SPEC section 4): properties the posting and the bank-file
import rely on, over random loans and random runs of payments."""

from dataclasses import fields
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loans.lending.schedule import LoanTerms, build_schedule
from loans.products.terms import RepaymentMethod
from loans.repayments.allocation import (
    Allocation,
    AllocationLine,
    InstallmentState,
    Overpayment,
    allocate,
    apply_allocation,
    payoff_amount,
)

PAID_FIELDS = {
    "paid_principal",
    "paid_interest",
    "paid_penalty",
    "cancelled_interest",
    "cancelled_subsidy",
    "on_time_principal",
}


def states_of(terms: LoanTerms) -> list[InstallmentState]:
    return [
        InstallmentState(
            i.seq,
            i.period_start,
            i.due_date,
            i.principal,
            i.interest,
            i.subsidy_interest,
            i.borrower_interest,
        )
        for i in build_schedule(terms)
    ]


loans = st.builds(
    LoanTerms,
    principal=st.integers(1_000_00, 300_000_00),
    annual_rate=st.sampled_from([Decimal("0.0435"), Decimal("0.0480"), Decimal("0.0600")]),
    term_months=st.integers(1, 12),  # bullet loans run at most a year
    method=st.sampled_from(list(RepaymentMethod)),
    disbursed_on=st.dates(date(2024, 1, 1), date(2026, 6, 30)),
    subsidy_share=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1)]),
)
payments = st.lists(st.tuples(st.integers(0, 60), st.integers(1, 5_000_000)), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(loans, payments)
def test_the_payoff_is_never_below_the_principal_left(terms: LoanTerms, runs: list[tuple[int, int]]) -> None:
    """What lets `allocate` skip the payoff for a payment below the principal left: such a payment can neither
    settle the loan nor overpay it, whatever was paid and cancelled before."""
    states, paid_on = states_of(terms), terms.disbursed_on
    for days, amount in runs:
        paid_on += timedelta(days=days)
        principal_left = sum(s.principal_left for s in states)
        payoff = payoff_amount(states, paid_on, terms.subsidy_share)
        assert payoff >= principal_left
        try:
            allocation = allocate(states, amount, paid_on, terms.subsidy_share)
        except Overpayment as refused:
            assert amount > payoff and refused.payoff == payoff
            continue
        assert allocation.settles == (amount == payoff)
        assert sum(line.paid for line in allocation.lines) == amount
        states = apply_allocation(states, allocation, paid_on)
        if allocation.settles:
            assert sum(s.principal_left for s in states) == 0
            break


def test_applying_an_allocation_changes_only_what_was_paid_and_cancelled() -> None:
    row = InstallmentState(  # every field a value of its own, so that one carried over wrongly shows
        **{
            f.name: date(2026, 1, n + 1) if f.name in ("period_start", "due_date") else 100 * (n + 1)
            for n, f in enumerate(fields(InstallmentState))
        }
    )
    line = AllocationLine(
        row.seq, penalty=1, interest=2, principal=4, cancelled_interest=8, cancelled_subsidy=16
    )
    (after,) = apply_allocation([row], Allocation([line]), paid_on=row.due_date)
    for f in fields(InstallmentState):
        if f.name not in PAID_FIELDS:
            assert getattr(after, f.name) == getattr(row, f.name), f.name
    assert (after.paid_penalty, after.paid_interest, after.paid_principal) == (
        row.paid_penalty + 1,
        row.paid_interest + 2,
        row.paid_principal + 4,
    )
    assert (after.cancelled_interest, after.cancelled_subsidy) == (
        row.cancelled_interest + 8,
        row.cancelled_subsidy + 16,
    )
    assert after.on_time_principal == row.on_time_principal + 4  # paid on its due date: on time


@settings(max_examples=150, deadline=None)
@given(loans, payments)
def test_installments_settled_and_due_by_the_payment_date_change_no_allocation(
    terms: LoanTerms, runs: list[tuple[int, int]]
) -> None:
    """What lets the bank-file import leave them unread: allocating over the installments without those settled
    and due by the payment date gives the same lines, the same settlement, the same refusal."""
    states, paid_on = states_of(terms), terms.disbursed_on
    for days, amount in runs:
        paid_on += timedelta(days=days)
        open_or_later = [
            s
            for s in states
            if not (s.due_date <= paid_on and s.principal_left == s.interest_left == s.penalty_left == 0)
        ]
        try:
            allocation = allocate(states, amount, paid_on, terms.subsidy_share)
        except Overpayment as refused:
            try:
                allocate(open_or_later, amount, paid_on, terms.subsidy_share)
            except Overpayment as refused_too:
                assert refused_too.payoff == refused.payoff
                continue
            raise AssertionError("refused over all installments, allocated over the open ones") from None
        assert allocate(open_or_later, amount, paid_on, terms.subsidy_share) == allocation
        states = apply_allocation(states, allocation, paid_on)
        if allocation.settles:
            break
