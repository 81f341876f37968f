"""The existing loan book (存量贷款, SPEC section 3): the spreadsheet read and each row checked on its own.

File-level problems (columns, no rows, the encoding) raise ImportFileError at upload. A row's problem becomes its
``reason``, naming the field; the checks against the database (village, product, bank, fund, the woman already
registered) are the posting's (book_posting.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from loans.applicants.national_id import InvalidNationalId, validate_applicant_id
from loans.applications.credit_code import InvalidCreditCode, validate_credit_code
from loans.applications.schemas import ProjectType
from loans.core.errors import BilingualValueError
from loans.imports.parsing import ImportFileError, named_columns, read_table
from loans.money import amount_column, parse_decimal
from loans.products.schemas import BorrowerKind
from loans.products.terms import RepaymentMethod
from reports.render.labels import PROJECT_TYPE_LABELS, REPAYMENT_METHOD_LABELS

# The API name of each column, then its headers: the template's Chinese one first.
BOOK_COLUMNS = {
    "contract_no": ("合同编号", "借款合同编号", "合同号", "contract_no", "contract number"),
    "bank_code": ("银行代码", "贷款银行", "银行", "bank_code", "bank"),
    "national_id": ("身份证号码", "身份证号", "借款人身份证号", "national_id", "id number"),
    "name": ("姓名", "借款人姓名", "借款人", "name"),
    "phone": ("联系电话", "手机号码", "电话", "phone"),
    "village_code": ("村（社区）代码", "村代码", "村区划代码", "village_code"),
    "product_code": ("贷款产品代码", "贷款产品", "产品代码", "product_code", "product"),
    "borrower_kind": ("借款人类型", "borrower_kind"),
    "credit_code": ("统一社会信用代码", "credit_code"),
    "amount": ("贷款金额", "放款金额", "金额", "amount"),
    "annual_rate": ("年利率", "执行年利率", "annual_rate"),
    "term_months": ("期限（月）", "贷款期限", "期限", "term_months"),
    "repayment_method": ("还款方式", "repayment_method"),
    "disbursed_on": ("放款日期", "发放日期", "disbursed_on"),
    "bank_txn_ref": ("放款流水号", "bank_txn_ref"),
    "project_type": ("项目类型", "project_type"),
    "project_description": ("项目描述", "project_description"),
    "project_investment": ("项目总投资", "project_investment"),
    "jobs_expected": ("带动就业人数", "jobs_expected"),
    "guarantee_fund": ("担保基金", "guarantee_fund"),
}
# A bank liaison's file may leave out the bank (it is hers); a county officer's must name it on every row.
OPTIONAL_COLUMNS = frozenset(
    {"bank_code", "phone", "credit_code", "bank_txn_ref", "project_description", "project_investment",
     "guarantee_fund"}
)  # fmt: skip

BORROWER_KIND_NAMES = {"个人": "individual", "合伙经营": "partnership", "合伙": "partnership",
                       "企业": "enterprise", "妇字号企业": "enterprise", "小微企业": "enterprise",
                       "专业合作社": "cooperative", "合作社": "cooperative"}  # fmt: skip
_PUNCTUATION = re.compile(r"[\s、，,（）()]")
METHOD_NAMES = {_PUNCTUATION.sub("", zh): method for method, zh in REPAYMENT_METHOD_LABELS.items()} | {
    "利随本清": "bullet"
}
PROJECT_NAMES = {zh: project for project, zh in PROJECT_TYPE_LABELS.items()}
_PHONE = re.compile(r"^\+?[0-9\- ]{7,20}$")
_RATE_PLACES = 6  # loan.annual_rate is NUMERIC(8, 6)
_MAX_TERM_MONTHS = 600


def read_book(content: bytes, filename: str, *, bank_column: bool) -> pl.DataFrame:
    """The book's rows as strings under their API names, numbered from 1; ``bank_column``: the file must name the
    bank (a county officer's)."""
    optional = OPTIONAL_COLUMNS - {"bank_code"} if bank_column else OPTIONAL_COLUMNS
    frame = named_columns(read_table(content, filename, gbk=True), BOOK_COLUMNS, optional)
    if frame.height == 0:
        raise ImportFileError("the file has a header but no rows", "文件只有表头，没有数据行")
    return frame.with_row_index("row_no", offset=1)


@dataclass(frozen=True, slots=True)
class BookRow:
    """One row as the posting takes it: parsed values, or the reason it is refused (the values then partial)."""

    row_no: int
    contract_no: str | None
    bank_code: str | None
    national_id: str | None = None
    birth_date: date | None = None
    name: str | None = None
    phone: str | None = None
    village_code: str | None = None
    product_code: str | None = None
    borrower_kind: str | None = None
    credit_code: str | None = None
    amount: int | None = None
    annual_rate: Decimal | None = None
    term_months: int | None = None
    repayment_method: str | None = None
    disbursed_on: date | None = None
    bank_txn_ref: str | None = None
    project_type: str | None = None
    project_description: str | None = None
    project_investment: int = 0  # fen; not in the book: unknown
    jobs_expected: int | None = None
    guarantee_fund: str | None = None
    reason: str | None = None


class RowRefused(Exception):
    """A row refused, for the reason its message gives: the field, then English / Chinese."""

    def __init__(self, field: str, message_en: str, message_zh: str) -> None:
        super().__init__(f"{field}: {message_en} / {message_zh}")


def book_rows(
    frame: pl.DataFrame, today: date, *, bank_code: str | None, min_age: int, max_age: int
) -> list[BookRow]:
    """Every row of ``read_book``'s frame checked on its own; ``bank_code``: the liaison's bank, which a row
    naming another bank is refused for."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    stripped = frame.with_columns(
        pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c).str.strip_chars()).alias(c) for c in text
    )
    amount_fen, amount_problem = amount_column(pl.col("amount"), grouped=True)
    investment_fen, investment_problem = amount_column(pl.col("project_investment"), grouped=True)
    typed = stripped.with_columns(
        amount_fen=amount_fen,
        amount_problem=amount_problem,
        investment_fen=investment_fen,
        investment_problem=investment_problem,
        disbursed=pl.col("disbursed_on").str.slice(0, 10).str.replace_all("/", "-").str.to_date(strict=False),
        term=pl.col("term_months").str.replace(r"\.0+$", "").cast(pl.Int32, strict=False),
        jobs=pl.col("jobs_expected").str.replace(r"\.0+$", "").cast(pl.Int32, strict=False),
    )
    rows = []
    for raw in typed.iter_rows(named=True):
        contract_no, bank = raw["contract_no"], raw["bank_code"] or bank_code
        try:
            rows.append(_checked(raw, today, bank_code, min_age, max_age))
        except RowRefused as refused:
            rows.append(BookRow(raw["row_no"], contract_no, bank, reason=str(refused)))
    return rows


def _checked(raw: dict, today: date, own_bank: str | None, min_age: int, max_age: int) -> BookRow:
    contract_no = _required(raw, "contract_no", "合同编号", 60)
    bank = raw["bank_code"] or own_bank
    if bank is None:
        raise RowRefused("bank_code", "name the bank", "请填写银行代码")
    if own_bank is not None and bank != own_bank:
        raise RowRefused("bank_code", "another bank's loan", "不是本行的贷款")
    disbursed_on = raw["disbursed"]
    if disbursed_on is None:
        raise RowRefused("disbursed_on", "not a YYYY-MM-DD date", "放款日期格式错误")
    if disbursed_on > today:
        raise RowRefused("disbursed_on", "cannot be in the future", "放款日期不能晚于今天")
    try:  # her age on the day the loan was made, as the bank decision checked it then
        national_id = validate_applicant_id(
            _required(raw, "national_id", "身份证号码", 30),
            today=disbursed_on,
            min_age=min_age,
            max_age=max_age,
        )
    except InvalidNationalId as exc:
        raise RowRefused("national_id", exc.message_en, exc.message_zh) from exc
    phone = raw["phone"]
    if phone is not None and not _PHONE.match(phone):
        raise RowRefused("phone", "not a phone number", "联系电话格式错误")
    village_code = _required(raw, "village_code", "村（社区）代码", 12)
    if not (len(village_code) == 12 and village_code.isdigit()):
        raise RowRefused("village_code", "not a 12-digit village code", "村（社区）代码须为12位数字")
    kind = _named(raw, "borrower_kind", "借款人类型", BORROWER_KIND_NAMES, set(BorrowerKind))
    if kind == BorrowerKind.PARTNERSHIP:
        raise RowRefused(
            "borrower_kind",
            "a partnership has several members: enter it through an application",
            "合伙经营有多名成员，请通过贷款申请录入",
        )
    credit_code = None
    if kind in (BorrowerKind.ENTERPRISE, BorrowerKind.COOPERATIVE):
        try:
            credit_code = validate_credit_code(_required(raw, "credit_code", "统一社会信用代码", 18))
        except InvalidCreditCode as exc:
            raise RowRefused("credit_code", exc.message_en, exc.message_zh) from exc
    amount = raw["amount_fen"]
    if raw["amount"] is None:
        raise RowRefused("amount", "missing", "缺少贷款金额")
    if raw["amount_problem"] is not None:
        raise RowRefused("amount", *raw["amount_problem"].split(" / ", 1))
    if amount <= 0:
        raise RowRefused("amount", "must be positive", "贷款金额须大于零")
    term = raw["term"]
    if term is None or not 1 <= term <= _MAX_TERM_MONTHS:
        raise RowRefused("term_months", "not a number of months", "期限（月）须为月数")
    jobs = raw["jobs"]
    if jobs is None or jobs < 0:
        raise RowRefused("jobs_expected", "not a number of people", "带动就业人数须为非负整数")
    project_type = _named(raw, "project_type", "项目类型", PROJECT_NAMES, set(ProjectType))
    investment = raw["investment_fen"]
    if raw["investment_problem"] is not None:
        raise RowRefused("project_investment", *raw["investment_problem"].split(" / ", 1))
    return BookRow(
        row_no=raw["row_no"],
        contract_no=contract_no,
        bank_code=bank,
        national_id=national_id.number,
        birth_date=national_id.birth_date,
        name=_required(raw, "name", "姓名", 60),
        phone=phone,
        village_code=village_code,
        product_code=_required(raw, "product_code", "贷款产品代码", 40),
        borrower_kind=kind,
        credit_code=credit_code,
        amount=amount,
        annual_rate=_rate(raw["annual_rate"]),
        term_months=term,
        repayment_method=_named(
            raw, "repayment_method", "还款方式", METHOD_NAMES, set(RepaymentMethod), strip=_PUNCTUATION
        ),
        disbursed_on=disbursed_on,
        bank_txn_ref=raw["bank_txn_ref"] or f"BOOK-{contract_no}",
        project_type=project_type,
        project_description=raw["project_description"] or PROJECT_TYPE_LABELS[project_type],
        project_investment=investment or 0,
        jobs_expected=jobs,
        guarantee_fund=raw["guarantee_fund"],
    )


def _required(raw: dict, field: str, zh: str, longest: int) -> str:
    value = raw[field]
    if value is None:
        raise RowRefused(field, "missing", f"缺少{zh}")
    if len(value) > longest:
        raise RowRefused(field, f"longer than {longest} characters", f"{zh}超过{longest}个字符")
    return value


def _named(
    raw: dict, field: str, zh: str, names: dict[str, str], values: set[str], strip: re.Pattern | None = None
) -> str:
    """An API value, or its Chinese name."""
    value = _required(raw, field, zh, 40)
    key = strip.sub("", value) if strip else value
    if value in values:
        return value
    if key in names:
        return names[key]
    raise RowRefused(field, f"{value} is not one of {', '.join(sorted(values))}", f"{zh}「{value}」无法识别")


def _rate(text: str | None) -> Decimal:
    """A fraction (0.0435) or a percentage (4.35%)."""
    if text is None:
        raise RowRefused("annual_rate", "missing", "缺少年利率")
    try:  # the API's grammar of a rate (loans/money.py), as a fraction or as a percentage
        if text.endswith("%"):
            rate = parse_decimal(text[:-1], _RATE_PLACES - 2, 2, example="4.35") / 100
        else:
            rate = parse_decimal(text, _RATE_PLACES, 1, example="0.0435")
    except BilingualValueError as exc:
        raise RowRefused(
            "annual_rate",
            f"write the rate as a fraction (0.0435) or a percentage (4.35%): {exc.message_en}",
            f"年利率格式错误：{exc.message_zh}",
        ) from exc
    if not rate < 1:
        raise RowRefused(
            "annual_rate", "write the rate as a fraction (0.0435) or a percentage (4.35%)", "年利率格式错误"
        )
    return rate.normalize() if rate else Decimal(0)
