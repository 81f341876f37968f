"""The repayment methods a product may offer (SPEC section 4), and the longest term of a bullet loan. The
schedules (loans/lending/schedule.py) are computed for them."""

from __future__ import annotations

from enum import StrEnum

MAX_BULLET_TERM_MONTHS = 12


class RepaymentMethod(StrEnum):
    QUARTERLY_INTEREST_BULLET = "quarterly_interest_bullet"
    MONTHLY_INTEREST_BULLET = "monthly_interest_bullet"
    EQUAL_INSTALLMENT = "equal_installment"
    EQUAL_PRINCIPAL = "equal_principal"
    BULLET = "bullet"
