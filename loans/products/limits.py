"""The product's limits, checked when an application is made (422) and again at the bank decision (409)."""

from __future__ import annotations

from decimal import Decimal

from loans.core.errors import Conflict, InvalidInput
from loans.money import fen_to_str
from loans.products.models import LoanProduct
from loans.products.terms import MAX_BULLET_TERM_MONTHS, RepaymentMethod


def _limit_error(field: str, en: str, zh: str, at_bank: bool) -> Exception:
    """Product limits are input errors when an application is made, and conflicts at the bank decision."""
    return Conflict(en, zh, field=field) if at_bank else InvalidInput(field, en, zh)


def check_product_terms(
    product: LoanProduct,
    *,
    borrower_kind: str,
    amount: int,
    term_months: int,
    method: str,
    at_bank: bool,
    annual_rate: Decimal | None = None,
) -> None:
    limit = product.max_amount_for(borrower_kind)
    amount_field = "amount" if at_bank else "amount_requested"
    if amount > limit:
        raise _limit_error(
            amount_field,
            f"{fen_to_str(amount)} exceeds the product's {borrower_kind} limit of {fen_to_str(limit)}",
            f"金额 {fen_to_str(amount)} 元超过产品对该借款人类型的上限 {fen_to_str(limit)} 元",
            at_bank,
        )
    if term_months > product.max_term_months:
        raise _limit_error(
            "term_months",
            f"{term_months} months exceeds the product's maximum term of {product.max_term_months}",
            f"期限 {term_months} 个月超过产品上限 {product.max_term_months} 个月",
            at_bank,
        )
    if method not in product.repayment_methods:
        raise _limit_error(
            "repayment_method",
            f"{method} is not offered by product {product.code} ({', '.join(product.repayment_methods)})",
            f"产品 {product.code} 不支持还款方式 {method}",
            at_bank,
        )
    if method == RepaymentMethod.BULLET and term_months > MAX_BULLET_TERM_MONTHS:
        raise _limit_error(
            "term_months",
            f"a bullet loan runs at most {MAX_BULLET_TERM_MONTHS} months",
            f"到期一次还本付息的期限不得超过 {MAX_BULLET_TERM_MONTHS} 个月",
            at_bank,
        )
    if annual_rate is not None and annual_rate > product.max_annual_rate:
        raise _limit_error(
            "annual_rate",
            f"rate {annual_rate} exceeds the product's ceiling of {product.max_annual_rate}",
            f"利率 {annual_rate} 超过产品利率上限 {product.max_annual_rate}",
            at_bank,
        )
