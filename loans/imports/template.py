"""The loan-book template (导入模板): an XLSX with the Chinese headers and one example row, filled in from the
caller's county (a village, a product in effect, a bank and its fund), so that the example imports as it is."""

from __future__ import annotations

import io
from datetime import date, timedelta

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.national_id import with_check_char
from loans.banks.models import Bank
from loans.core.actor import Actor
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.funds.models import GuaranteeFund
from loans.imports.book import BOOK_COLUMNS, OPTIONAL_COLUMNS
from loans.products.models import LoanProduct
from loans.products.schemas import GuaranteeMode
from loans.products.terms import RepaymentMethod
from loans.regions.models import Region
from reports.render.labels import REPAYMENT_METHOD_LABELS

TEMPLATE_FILENAME = "loan-book-template.xlsx"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXAMPLE_AMOUNT = 5_000_000  # fen


async def loan_book_template(session: AsyncSession, actor: Actor, today: date) -> bytes:
    """For a county officer or a bank liaison (their scope is a county)."""
    assert actor.region_code is not None
    county = ancestor_code(actor.region_code, RegionLevel.COUNTY)
    village = await session.scalar(
        select(Region.code)
        .where(Region.level == RegionLevel.VILLAGE, Region.code.startswith(county[:6]))
        .order_by(Region.code)
        .limit(1)
    )
    product = await session.scalar(
        select(LoanProduct)
        .where(
            LoanProduct.county_code == county,
            LoanProduct.effective_from <= today,
            (LoanProduct.effective_to.is_(None)) | (LoanProduct.effective_to >= today),
        )
        .order_by(LoanProduct.effective_from.desc())
        .limit(1)
    )
    bank = actor.bank_code or await session.scalar(
        select(Bank.code).where(Bank.county_code == county).order_by(Bank.code).limit(1)
    )
    funds = list(
        await session.scalars(
            select(GuaranteeFund)
            .where(GuaranteeFund.county_code == county, GuaranteeFund.bank_code == bank)
            .order_by(GuaranteeFund.created_at)
        )
    )
    names = [f.name for f in funds]
    # by its name, unless another of the county's funds at the bank shares it
    fund = None if not funds else funds[0].name if names.count(funds[0].name) == 1 else str(funds[0].id)
    disbursed_on = max(today - timedelta(days=180), product.effective_from) if product else today
    method = product.repayment_methods[0] if product else RepaymentMethod.QUARTERLY_INTEREST_BULLET.value
    example = {
        "contract_no": f"{bank or 'BANK'}-{disbursed_on:%Y}-000001",
        "bank_code": bank or "",
        "national_id": with_check_char(f"{county[:6]}19900315002"),
        "name": "王秀英",
        "phone": "13900000000",
        "village_code": village or "",
        "product_code": product.code if product else "",
        "borrower_kind": "个人",
        "credit_code": "",
        "amount": f"{_EXAMPLE_AMOUNT // 100}.00",
        "annual_rate": str(product.max_annual_rate.normalize()) if product else "0.0435",
        "term_months": str(min(product.max_term_months, 24) if product else 24),
        "repayment_method": REPAYMENT_METHOD_LABELS[method],
        "disbursed_on": disbursed_on.isoformat(),
        "bank_txn_ref": "",
        "project_type": "养殖",
        "project_description": "养殖肉羊50只",
        "project_investment": "80000.00",
        "jobs_expected": "3",
        "guarantee_fund": fund if fund and product and product.guarantee_mode == GuaranteeMode.FUND else "",
    }
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("存量贷款")
    header = workbook.add_format({"bold": True, "bg_color": "#FCE4EC", "border": 1})
    optional = workbook.add_format({"bg_color": "#F5F5F5", "border": 1})
    for col, (name, aliases) in enumerate(BOOK_COLUMNS.items()):
        sheet.write_string(0, col, aliases[0], optional if name in OPTIONAL_COLUMNS else header)
        sheet.write_string(1, col, example[name])  # text cells: an ID number must not become a float
        sheet.set_column(col, col, max(12, 2 * len(aliases[0]) + 2))
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()
