"""The checks a loan book's row must pass, as the API checks an application, its bank decision and its
disbursement: against the batch's reference rows (read in a handful of queries) and the rows before it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from loans.applicants.models import Applicant, Training
from loans.banks.models import Bank
from loans.core.actor import Actor
from loans.core.errors import DomainError
from loans.core.region_codes import RegionLevel, region_path
from loans.funds.models import GuaranteeFund
from loans.imports.book import BookRow, RowRefused
from loans.lending.models import Loan
from loans.products.limits import check_product_terms
from loans.products.models import LoanProduct
from loans.products.schemas import GuaranteeMode
from loans.regions.models import Region


def _refused_by(exc: DomainError) -> RowRefused:
    return RowRefused(
        getattr(exc, "field", None) or exc.extra.get("field", "row"), exc.message_en, exc.message_zh
    )


@dataclass(slots=True)
class Reference:
    """The batch's reference rows, by key."""

    villages: set[str]
    banks: dict[str, str]  # code -> county code
    products: dict[str, LoanProduct]
    funds: list[GuaranteeFund]
    applicants: dict[
        str, tuple[UUID, str, str, str, str]
    ]  # national id -> id, name, county, township, village
    loans: dict[tuple[str, str], tuple[UUID, UUID]]  # (bank, contract number) -> loan, applicant
    references: set[tuple[str, str]]  # (bank, disbursement reference) of loans
    borrowed: dict[UUID, int]  # applicant -> loans ever made to her
    trained: set[UUID]  # applicants with a training certificate


async def read_reference(session: AsyncSession, rows: list[BookRow]) -> Reference:
    def values(name: str) -> list[Any]:
        return list({getattr(r, name) for r in rows} - {None})

    national_ids, contracts, banks = values("national_id"), values("contract_no"), values("bank_code")
    counties = list({region_path(v)[0] for v in values("village_code")})
    applicants = {
        row[1]: (row[0], *row[2:])
        for row in await session.execute(
            select(
                Applicant.id,
                Applicant.national_id,
                Applicant.name,
                Applicant.county_code,
                Applicant.township_code,
                Applicant.village_code,
            ).where(Applicant.national_id.in_(national_ids))
        )
    }
    existing = [a[0] for a in applicants.values()]
    products = list(
        await session.scalars(select(LoanProduct).where(LoanProduct.code.in_(values("product_code"))))
    )
    borrowed = dict(
        (
            await session.execute(
                select(Loan.applicant_id, func.count())
                .where(Loan.applicant_id.in_(existing))
                .group_by(Loan.applicant_id)
            )
        ).all()
    )
    trained: set[UUID] = set()
    if any(p.requires_training for p in products):
        trained = set(
            await session.scalars(
                select(Training.applicant_id)
                .where(Training.applicant_id.in_(existing), Training.certificate_no.is_not(None))
                .distinct()
            )
        )
    return Reference(
        villages=set(
            await session.scalars(
                select(Region.code).where(
                    Region.code.in_(values("village_code")), Region.level == RegionLevel.VILLAGE
                )
            )
        ),
        banks=dict(
            (await session.execute(select(Bank.code, Bank.county_code).where(Bank.code.in_(banks)))).all()
        ),
        products={p.code: p for p in products},
        funds=list(
            await session.scalars(select(GuaranteeFund).where(GuaranteeFund.county_code.in_(counties)))
        ),
        applicants=applicants,
        loans={
            (bank, contract): (loan_id, applicant_id)
            for bank, contract, loan_id, applicant_id in await session.execute(
                select(Loan.bank_code, Loan.contract_no, Loan.id, Loan.applicant_id).where(
                    Loan.contract_no.in_(contracts), Loan.bank_code.in_(banks)
                )
            )
        },
        references=set(
            (
                await session.execute(
                    select(Loan.bank_code, Loan.bank_txn_ref).where(
                        Loan.bank_txn_ref.in_(values("bank_txn_ref")), Loan.bank_code.in_(banks)
                    )
                )
            ).all()
        ),
        borrowed=borrowed,
        trained=trained,
    )


@dataclass(frozen=True, slots=True)
class NewLoan:
    """A row that passed every check, with what its writes need."""

    row: BookRow
    applicant_id: UUID
    new_applicant: bool
    region: tuple[str, str, str]
    product: LoanProduct
    fund_id: UUID | None
    application_id: UUID = field(default_factory=uuid7)
    loan_id: UUID = field(default_factory=uuid7)


def check_row(row: BookRow, ref: Reference, actor: Actor, taken: Taken) -> NewLoan:
    """The row against the reference rows and the rows before it in the batch (``taken``), as the API checks an
    application (scope, product), its bank decision (limits, borrowings, training) and its disbursement."""
    if row.village_code not in ref.villages:
        raise RowRefused(
            "village_code",
            f"no village with code {row.village_code}",
            f"村（社区）代码 {row.village_code} 未登记",
        )
    registered = ref.applicants.get(row.national_id) or taken.applicants.get(row.national_id)
    if registered is not None:
        applicant_id, name, *region = registered
        if not actor.covers_region(
            *region
        ):  # before her name is compared: no answer about a woman out of scope
            raise RowRefused(
                "national_id", "she is registered outside your area", "该借款人登记在您的辖区以外"
            )
        if name != row.name:
            raise RowRefused(
                "name",
                "differs from the name registered with this ID number",
                "与该身份证号已登记的姓名不一致",
            )
        if region[2] != row.village_code:
            raise RowRefused(
                "village_code", "she is registered in another village", "该借款人登记在其他村（社区）"
            )
    else:
        applicant_id, region = uuid7(), list(region_path(row.village_code))
    county, township, village = region
    if not actor.covers_region(county, township, village):
        raise RowRefused("village_code", "the village is outside your area", "该村不在您的辖区内")
    if ref.banks.get(row.bank_code) != county:
        raise RowRefused(
            "bank_code", "not a partner bank of the borrower's county", "不是借款人所在县的合作银行"
        )
    product = ref.products.get(row.product_code)
    if product is None or product.county_code != county:
        raise RowRefused(
            "product_code",
            f"no product {row.product_code} in the borrower's county",
            f"本县没有贷款产品 {row.product_code}",
        )
    if product.effective_from > row.disbursed_on or (
        product.effective_to is not None and product.effective_to < row.disbursed_on
    ):
        raise RowRefused(
            "product_code",
            f"product {row.product_code} was not in effect on the disbursement date",
            f"放款日期不在贷款产品 {row.product_code} 的有效期内",
        )
    try:
        check_product_terms(
            product,
            borrower_kind=row.borrower_kind,
            amount=row.amount,
            term_months=row.term_months,
            method=row.repayment_method,
            annual_rate=row.annual_rate,
            at_bank=True,
        )
    except DomainError as exc:
        raise _refused_by(exc) from exc
    borrowed = ref.borrowed.get(applicant_id, 0) + taken.borrowed[applicant_id]
    if borrowed >= product.max_borrowings:
        raise RowRefused(
            "national_id",
            f"she has borrowed {borrowed} times; the product allows {product.max_borrowings}",
            f"借款人已贷款 {borrowed} 次，超过产品允许的 {product.max_borrowings} 次",
        )
    if product.requires_training and applicant_id not in ref.trained:
        raise RowRefused(
            "national_id", "the product requires a training certificate", "该产品要求创业培训合格证书"
        )
    if (row.bank_code, row.bank_txn_ref) in ref.references or (
        row.bank_code,
        row.bank_txn_ref,
    ) in taken.references:
        raise RowRefused("bank_txn_ref", "already used by another loan", "放款流水号已被其他贷款使用")
    return NewLoan(
        row,
        applicant_id,
        registered is None,
        (county, township, village),
        product,
        _fund(row, ref, product, county),
    )


def _fund(row: BookRow, ref: Reference, product: LoanProduct, county: str) -> UUID | None:
    """The fund the row names (its id or its name), else the one fund of the borrower's county at the bank when the
    product is fund-guaranteed."""
    at_bank = [f for f in ref.funds if f.county_code == county and f.bank_code == row.bank_code]
    if row.guarantee_fund is not None:
        named = [f for f in at_bank if row.guarantee_fund in (str(f.id), f.name)]
        if not named:
            raise RowRefused(
                "guarantee_fund",
                "no such guarantee fund of the county at this bank",
                "本县在该银行没有此担保基金",
            )
        if len(named) > 1:
            raise RowRefused(
                "guarantee_fund",
                "several funds go by this name: give the fund's id",
                "有多个同名担保基金，请填写基金编号",
            )
        return named[0].id
    if product.guarantee_mode != GuaranteeMode.FUND:
        return None
    if len(at_bank) != 1:
        raise RowRefused(
            "guarantee_fund",
            "this product is guaranteed by a fund: name it",
            "该产品由担保基金担保，须填写担保基金",
        )
    return at_bank[0].id


@dataclass(slots=True)
class Taken:
    """What the batch's earlier rows took: the women they registered, loans per woman, disbursement references."""

    applicants: dict[str, tuple[UUID, str, str, str, str]] = field(default_factory=dict)
    borrowed: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))
    references: set[tuple[str, str]] = field(default_factory=set)

    def take(self, new: NewLoan) -> None:
        if new.new_applicant:
            self.applicants[new.row.national_id] = (new.applicant_id, new.row.name, *new.region)
        self.borrowed[new.applicant_id] += 1
        self.references.add((new.row.bank_code, new.row.bank_txn_ref))
