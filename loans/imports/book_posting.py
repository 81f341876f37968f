"""Posting one batch of a loan book's rows, in the caller's transaction: the batch's reference rows read in a
handful of queries, each row checked as the API checks an application, its approval and its disbursement, and the
new applicants, applications, loans and schedules written in bulk (COPY), with their audit events.

A batch holds every row of the women it names, so two batches never register the same woman."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from loans.applicants.models import Applicant, Training
from loans.applications.workflow import Status
from loans.banks.models import Bank
from loans.core.actor import Actor
from loans.core.driver import driver_connection
from loans.core.errors import DomainError
from loans.core.region_codes import RegionLevel, region_path
from loans.funds.models import GuaranteeFund
from loans.imports.book import BookRow, RowRefused
from loans.loans.delinquency import refresh_loans
from loans.loans.models import Loan
from loans.loans.schedule import maturity_date
from loans.loans.schedule_frame import schedule_frame
from loans.products.limits import check_product_terms
from loans.products.models import LoanProduct
from loans.products.schemas import GuaranteeMode
from loans.regions.models import Region


@dataclass(frozen=True, slots=True)
class BookKeys:
    """What each batch needs of the import: its id, and who imports (her scope, and the audit events' author)."""

    id: UUID
    actor: Actor


@dataclass(frozen=True, slots=True)
class BookOutcome:
    row_no: int
    outcome: str  # created, duplicate or rejected
    reason: str | None = None
    loan_id: UUID | None = None
    applicant_id: UUID | None = None


def _refused_by(exc: DomainError) -> RowRefused:
    return RowRefused(
        getattr(exc, "field", None) or exc.extra.get("field", "row"), exc.message_en, exc.message_zh
    )


@dataclass(slots=True)
class _Reference:
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


async def _reference(session: AsyncSession, rows: list[BookRow]) -> _Reference:
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
    return _Reference(
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
class _NewLoan:
    """A row that passed every check, with what its writes need."""

    row: BookRow
    applicant_id: UUID
    new_applicant: bool
    region: tuple[str, str, str]
    product: LoanProduct
    fund_id: UUID | None
    application_id: UUID = field(default_factory=uuid7)
    loan_id: UUID = field(default_factory=uuid7)


def _check(row: BookRow, ref: _Reference, actor: Actor, taken: _Taken) -> _NewLoan:
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
    return _NewLoan(
        row,
        applicant_id,
        registered is None,
        (county, township, village),
        product,
        _fund(row, ref, product, county),
    )


def _fund(row: BookRow, ref: _Reference, product: LoanProduct, county: str) -> UUID | None:
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
class _Taken:
    """What the batch's earlier rows took: the women they registered, loans per woman, disbursement references."""

    applicants: dict[str, tuple[UUID, str, str, str, str]] = field(default_factory=dict)
    borrowed: dict[UUID, int] = field(default_factory=lambda: defaultdict(int))
    references: set[tuple[str, str]] = field(default_factory=set)

    def take(self, new: _NewLoan) -> None:
        if new.new_applicant:
            self.applicants[new.row.national_id] = (new.applicant_id, new.row.name, *new.region)
        self.borrowed[new.applicant_id] += 1
        self.references.add((new.row.bank_code, new.row.bank_txn_ref))


async def post_book_batch(
    session: AsyncSession, keys: BookKeys, rows: list[BookRow], decided: dict[int, BookOutcome], today: date
) -> None:
    """Check and write ``rows`` (those not ``decided`` already: refused on their own or repeated in the file),
    and record every row's outcome."""
    outcomes = dict(decided)
    candidates = sorted(
        (r for r in rows if r.row_no not in outcomes), key=lambda r: (r.disbursed_on, r.row_no)
    )  # a woman's loans in the order they were made, for the borrowings limit
    ref = await _reference(session, candidates)
    taken, created = _Taken(), []
    for row in candidates:
        duplicate = ref.loans.get((row.bank_code, row.contract_no))
        if duplicate is not None:
            outcomes[row.row_no] = BookOutcome(
                row.row_no,
                "duplicate",
                "contract already recorded at the bank / 该行已登记此合同",
                *duplicate,
            )
            continue
        try:
            new = _check(row, ref, keys.actor, taken)
        except RowRefused as refused:
            outcomes[row.row_no] = BookOutcome(row.row_no, "rejected", str(refused))
            continue
        taken.take(new)
        created.append(new)
        outcomes[row.row_no] = BookOutcome(row.row_no, "created", None, new.loan_id, new.applicant_id)
    raw = await driver_connection(session)
    if created:
        await _write(raw, keys, created)
        await refresh_loans(session, [n.loan_id for n in created], today)
    await raw.copy_records_to_table(
        "import_row",
        columns=(
            "import_id",
            "row_no",
            "contract_no",
            "bank_code",
            "outcome",
            "reason",
            "loan_id",
            "applicant_id",
        ),
        records=[
            (
                keys.id,
                r.row_no,
                r.contract_no,
                r.bank_code,
                outcomes[r.row_no].outcome,
                outcomes[r.row_no].reason,
                outcomes[r.row_no].loan_id,
                outcomes[r.row_no].applicant_id,
            )
            for r in rows
        ],
    )


APPLICANT_COLUMNS = ("id", "national_id", "name", "phone", "birth_date", "county_code", "township_code",
                     "village_code", "categories", "created_by", "created_at", "updated_at")  # fmt: skip
APPLICATION_COLUMNS = (
    "id", "applicant_id", "product_id", "borrower_kind", "credit_code", "amount_requested", "term_months",
    "repayment_method", "has_business_licence", "guarantee_fund_id", "bank_code", "status", "county_code",
    "township_code", "village_code", "project_type", "project_description", "project_investment", "jobs_expected",
    "approved_amount", "approved_rate", "approved_term_months", "approved_method", "decided_at", "submitted_on",
    "reviewed_on", "decided_on", "created_by", "created_at", "updated_at",
)  # fmt: skip
LOAN_COLUMNS = (
    "id", "application_id", "applicant_id", "product_id", "bank_code", "guarantee_fund_id", "county_code",
    "township_code", "village_code", "contract_no", "bank_txn_ref", "disbursed_on", "principal", "annual_rate",
    "term_months", "repayment_method", "subsidy_share", "penalty_markup", "guarantee_mode", "maturity_date",
    "project_type", "jobs_expected", "status", "outstanding_principal", "days_past_due", "bucket", "five_class",
    "overdue_principal", "penalty_outstanding", "compensated_amount", "recovered_amount", "created_at", "updated_at",
)  # fmt: skip
INSTALLMENT_COLUMNS = (
    "loan_id", "seq", "period_start", "due_date", "principal", "interest", "subsidy_interest", "borrower_interest",
    "paid_principal", "paid_interest", "paid_penalty", "penalty_accrued", "cancelled_interest", "cancelled_subsidy",
    "on_time_principal", "status",
)  # fmt: skip
AUDIT_COLUMNS = (
    "actor_id", "actor", "role", "entity_type", "entity_id", "action", "to_status", "after", "effective_on"
)  # fmt: skip
_RATE_UNITS, _SHARE_UNITS = 10**6, 10**4  # schedule_frame's integer rate and subsidy share


async def _write(raw: Any, keys: BookKeys, created: list[_NewLoan]) -> None:
    now, actor = datetime.now(UTC), keys.actor
    women = [n for n in created if n.new_applicant]
    await raw.copy_records_to_table(
        "applicant",
        columns=APPLICANT_COLUMNS,
        records=[
            (
                n.applicant_id,
                n.row.national_id,
                n.row.name,
                n.row.phone,
                n.row.birth_date,
                *n.region,
                [],
                actor.user_id,
                now,
                now,
            )
            for n in women
        ],  # fmt: skip
    )
    await raw.copy_records_to_table(
        "application",
        columns=APPLICATION_COLUMNS,
        records=[
            (
                n.application_id,
                n.applicant_id,
                n.product.id,
                n.row.borrower_kind,
                n.row.credit_code,
                n.row.amount,
                n.row.term_months,
                n.row.repayment_method,
                False,
                n.fund_id,
                n.row.bank_code,
                Status.DISBURSED.value,
                *n.region,
                n.row.project_type,
                n.row.project_description,
                n.row.project_investment,
                n.row.jobs_expected,
                n.row.amount,
                n.row.annual_rate,
                n.row.term_months,
                n.row.repayment_method,
                now,
                # the steps on paper, of which the book tells only the last: each dated the disbursement's date
                n.row.disbursed_on,
                n.row.disbursed_on,
                n.row.disbursed_on,
                actor.user_id,
                now,
                now,
            )
            for n in created
        ],  # fmt: skip
    )
    await raw.copy_records_to_table(
        "application_member",
        columns=("application_id", "applicant_id"),
        records=[(n.application_id, n.applicant_id) for n in created],
    )
    await raw.copy_records_to_table(
        "loan",
        columns=LOAN_COLUMNS,
        records=[
            (
                n.loan_id,
                n.application_id,
                n.applicant_id,
                n.product.id,
                n.row.bank_code,
                n.fund_id,
                *n.region,
                n.row.contract_no,
                n.row.bank_txn_ref,
                n.row.disbursed_on,
                n.row.amount,
                n.row.annual_rate,
                n.row.term_months,
                n.row.repayment_method,
                n.product.subsidy_share,
                n.product.penalty_markup,
                n.product.guarantee_mode,
                maturity_date(n.row.disbursed_on, n.row.term_months),
                n.row.project_type,
                n.row.jobs_expected,
                "active",
                n.row.amount,
                0,
                "current",
                "normal",
                0,
                0,
                0,
                0,
                now,
                now,
            )
            for n in created
        ],  # fmt: skip
    )
    # as CSV written by polars: a loan has a dozen installments, too many to encode as Python tuples
    await raw.copy_to_table(
        "installment", source=io.BytesIO(_installments(created)), columns=INSTALLMENT_COLUMNS, format="csv"
    )
    await raw.copy_records_to_table(
        "audit_event", columns=AUDIT_COLUMNS, records=_events(keys, created, women)
    )


def _installments(created: list[_NewLoan]) -> bytes:
    """The frozen schedules as CSV rows of INSTALLMENT_COLUMNS, built set-wise (``build_schedule`` over the frame of
    the batch's loans)."""
    terms = pl.DataFrame(
        {
            "loan": range(len(created)),
            "principal": [n.row.amount for n in created],
            "rate_u": [int(n.row.annual_rate * _RATE_UNITS) for n in created],
            "term": [n.row.term_months for n in created],
            "method": [n.row.repayment_method for n in created],
            "disbursed_on": [n.row.disbursed_on for n in created],
            "subsidy_u": [int(Decimal(n.product.subsidy_share) * _SHARE_UNITS) for n in created],
        },
        schema_overrides={"loan": pl.Int64, "principal": pl.Int64, "rate_u": pl.Int64, "term": pl.Int64},
    )
    loan_ids = pl.Series([str(n.loan_id) for n in created])
    unpaid = [pl.lit(0).alias(c) for c in INSTALLMENT_COLUMNS[8:15]]
    rows = schedule_frame(terms).select(
        pl.lit(loan_ids).gather(pl.col("loan")).alias("loan_id"),
        *INSTALLMENT_COLUMNS[1:8], *unpaid, pl.lit("pending").alias("status"),
    )  # fmt: skip
    return rows.write_csv(include_header=False).encode()


def _events(keys: BookKeys, created: list[_NewLoan], women: list[_NewLoan]) -> list[tuple[Any, ...]]:
    """An applicant registered for each new woman; for each loan, its application recorded as imported, in effect
    on the book's disbursement date."""
    actor = keys.actor
    who = (actor.user_id, actor.username, actor.role.value)
    registered = [
        (*who, "applicant", str(n.applicant_id), "register_applicant", None,
         msgspec.json.encode({"name": n.row.name, "village_code": n.region[2], "categories": [],
                              "import_id": keys.id}).decode(), None)
        for n in women
    ]  # fmt: skip
    imported = [
        (*who, "application", str(n.application_id), "import_loan_book", Status.DISBURSED.value,
         msgspec.json.encode({
             "import_id": keys.id, "row_no": n.row.row_no, "loan_id": n.loan_id, "contract_no": n.row.contract_no,
             "disbursed_on": n.row.disbursed_on, "amount": n.row.amount, "annual_rate": str(n.row.annual_rate),
             "term_months": n.row.term_months, "repayment_method": n.row.repayment_method,
         }).decode(), n.row.disbursed_on)
        for n in created
    ]  # fmt: skip
    return registered + imported
