"""Repayment schedules computed from a loan's signed terms (SPEC section 4).

Pure calculation: amounts are integer fen, rates are ``Decimal`` fractions, and every amount
is rounded once, half-up, through :func:`loans.money.round_fen`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from loans.money import fen_to_str, round_fen, round_ratio
from loans.products.terms import MAX_BULLET_TERM_MONTHS, RepaymentMethod

DAY_COUNT_BASIS = 360
MONTHS_PER_YEAR = 12
INTEREST_DAY_OF_MONTH = 20
_DECIMAL_PRECISION = 50


_INTEREST_MONTHS: dict[RepaymentMethod, Collection[int]] = {
    RepaymentMethod.QUARTERLY_INTEREST_BULLET: (3, 6, 9, 12),
    RepaymentMethod.MONTHLY_INTEREST_BULLET: range(1, MONTHS_PER_YEAR + 1),
    RepaymentMethod.BULLET: (),
}


@dataclass(frozen=True, slots=True)
class Installment:
    seq: int
    due_date: date
    period_start: date
    principal: int
    interest: int
    subsidy_interest: int
    borrower_interest: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class LoanTerms:
    principal: int
    annual_rate: Decimal
    term_months: int
    method: RepaymentMethod
    disbursed_on: date
    subsidy_share: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _require_int("principal", self.principal)
        _require_int("term_months", self.term_months)
        _require_finite_decimal("annual_rate", self.annual_rate)
        _require_finite_decimal("subsidy_share", self.subsidy_share)
        if self.method not in set(RepaymentMethod):
            raise ValueError(f"method must be one of {', '.join(RepaymentMethod)}, got {self.method!r}")
        if self.principal <= 0:
            raise ValueError(f"principal must be positive, got {self.principal} fen")
        if self.term_months < 1:
            raise ValueError(f"term_months must be at least 1, got {self.term_months}")
        if not 0 <= self.annual_rate < 1:
            raise ValueError(f"annual_rate must be a fraction in [0, 1), got {self.annual_rate}")
        if not 0 <= self.subsidy_share <= 1:
            raise ValueError(f"subsidy_share must be a fraction in [0, 1], got {self.subsidy_share}")
        if self.method == RepaymentMethod.BULLET and self.term_months > MAX_BULLET_TERM_MONTHS:
            raise ValueError(
                f"bullet loans run at most {MAX_BULLET_TERM_MONTHS} months, got {self.term_months}"
            )


def _require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")


def _require_finite_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value}")


def add_months_clamped(start: date, months: int) -> date:
    """The same day of month ``months`` later, clamped to that month's last day."""
    year, month_index = divmod(start.year * MONTHS_PER_YEAR + start.month - 1 + months, MONTHS_PER_YEAR)
    month = month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def maturity_date(disbursed_on: date, term_months: int) -> date:
    return add_months_clamped(disbursed_on, term_months)


def accrued_interest(principal: int, annual_rate: Decimal, start: date, end: date) -> int:
    """Interest on ``principal`` fen from ``start`` to ``end``, ACT/360, rounded half-up once."""
    if principal < 0:
        raise ValueError(f"principal must not be negative, got {principal} fen")
    if end < start:
        raise ValueError(f"interest period ends ({end}) before it starts ({start})")
    days = (end - start).days
    with localcontext(prec=_DECIMAL_PRECISION):
        return round_fen(Decimal(principal) * annual_rate * days / DAY_COUNT_BASIS)


def build_schedule(terms: LoanTerms) -> list[Installment]:
    if terms.method in _INTEREST_MONTHS:
        return _interest_bullet_schedule(terms, _INTEREST_MONTHS[terms.method])
    if terms.method == RepaymentMethod.EQUAL_INSTALLMENT:
        payment = _level_payment(terms.principal, terms.annual_rate, terms.term_months)
        return _amortizing_schedule(terms, lambda interest: payment - interest)
    with localcontext(prec=_DECIMAL_PRECISION):
        principal_share = round_fen(Decimal(terms.principal) / terms.term_months)
    return _amortizing_schedule(terms, lambda _interest: principal_share)


def _interest_bullet_schedule(terms: LoanTerms, interest_months: Collection[int]) -> list[Installment]:
    maturity = maturity_date(terms.disbursed_on, terms.term_months)
    due_dates = [*_interest_dates(terms.disbursed_on, maturity, interest_months), maturity]
    installments = []
    period_start = terms.disbursed_on
    for seq, due_date in enumerate(due_dates, start=1):
        principal = terms.principal if due_date == maturity else 0
        interest = accrued_interest(terms.principal, terms.annual_rate, period_start, due_date)
        installments.append(_installment(terms, seq, period_start, due_date, principal, interest))
        period_start = due_date
    return installments


def _interest_dates(disbursed_on: date, maturity: date, interest_months: Collection[int]) -> Iterator[date]:
    """The interest days of ``interest_months`` strictly between disbursement and maturity."""
    candidate = disbursed_on.replace(day=INTEREST_DAY_OF_MONTH)
    while candidate < maturity:
        if candidate > disbursed_on and candidate.month in interest_months:
            yield candidate
        candidate = add_months_clamped(candidate, 1)


def _level_payment(principal: int, annual_rate: Decimal, term_months: int) -> int:
    """The annuity payment A = P·i·(1+i)^n / ((1+i)^n − 1), or P / n without interest."""
    with localcontext(prec=_DECIMAL_PRECISION):
        if annual_rate == 0:
            return round_fen(Decimal(principal) / term_months)
        monthly_rate = annual_rate / MONTHS_PER_YEAR
        growth = (1 + monthly_rate) ** term_months
        return round_fen(principal * monthly_rate * growth / (growth - 1))


def _amortizing_schedule(terms: LoanTerms, scheduled_principal: Callable[[int], int]) -> list[Installment]:
    """Monthly installments; ``scheduled_principal`` maps a month's interest to its principal.

    A scheduled principal is kept within what is still outstanding (this only binds for loans
    of a few fen, where rounding would otherwise overpay or amortise negatively); the last
    installment takes whatever remains.
    """
    installments = []
    outstanding = terms.principal
    period_start = terms.disbursed_on
    for seq in range(1, terms.term_months + 1):
        due_date = add_months_clamped(terms.disbursed_on, seq)
        interest = _monthly_interest(outstanding, terms.annual_rate)
        if seq == terms.term_months:
            principal = outstanding
        else:
            principal = min(max(scheduled_principal(interest), 0), outstanding)
        installments.append(_installment(terms, seq, period_start, due_date, principal, interest))
        outstanding -= principal
        period_start = due_date
    return installments


def _monthly_interest(outstanding: int, annual_rate: Decimal) -> int:
    with localcontext(prec=_DECIMAL_PRECISION):
        return round_fen(Decimal(outstanding) * annual_rate / MONTHS_PER_YEAR)


def split_interest(interest: int, subsidy_share: Decimal) -> tuple[int, int]:
    """(subsidy_interest, borrower_interest): the finance bureau's share is rounded, the borrower's is the rest."""
    share, whole = subsidy_share.as_integer_ratio()
    subsidy_interest = round_ratio(interest * share, whole)
    return subsidy_interest, interest - subsidy_interest


def _installment(
    terms: LoanTerms, seq: int, period_start: date, due_date: date, principal: int, interest: int
) -> Installment:
    subsidy_interest, borrower_interest = split_interest(interest, terms.subsidy_share)
    return Installment(
        seq=seq,
        due_date=due_date,
        period_start=period_start,
        principal=principal,
        interest=interest,
        subsidy_interest=subsidy_interest,
        borrower_interest=borrower_interest,
    )


def schedule_table_rows(schedule: Iterable[Installment]) -> list[dict[str, str]]:
    """Display rows: ISO dates and amounts as decimal yuan strings."""
    return [
        {
            "seq": str(installment.seq),
            "due_date": installment.due_date.isoformat(),
            "principal": fen_to_str(installment.principal),
            "interest": fen_to_str(installment.interest),
            "subsidy_interest": fen_to_str(installment.subsidy_interest),
            "borrower_interest": fen_to_str(installment.borrower_interest),
            "total": fen_to_str(installment.total),
        }
        for installment in schedule
    ]
