"""Portfolios for the renderer tests (amounts in fen).

`small()`      a hand-checked county (two townships, two banks, three loans) whose figures the
               tests assert: L1's outstanding principal is 123450 fen = 1234.50 yuan.
`realistic()`  a deterministic county of ~70 loans over 18 months with month-end snapshots (two
               months missing), a lending target and two guarantee funds: for looking at it.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from reports.builders.asof import loan_positions
from reports.frames import SCHEMAS, PortfolioFrames
from tests.unit.reports import reports_factory
from tests.unit.reports.reports_factory import alloc, inst, portfolio, visit

COUNTY = "620302000000"
COUNTY_NAME = "金川区"
T1, T2 = "620302001000", "620302002000"
FULL_ID = "620302199001011224"
MASKED_ID = "620302********1224"
AS_OF = date(2025, 6, 30)


def loan(loan_id: str, **kw: Any) -> dict[str, Any]:
    """A loans row as the report tests build it, with the contract numbers and Chinese names a page shows."""
    defaults = {
        "contract_no": f"JC-{loan_id}",
        "borrower_name": f"借款人{loan_id}",
        "national_id": FULL_ID,
        "jobs_expected": 1,
        "disbursed_on": date(2025, 1, 10),
        "maturity_date": date(2026, 1, 10),
    }
    return reports_factory.loan(loan_id, **(defaults | kw))


def small() -> PortfolioFrames:
    """L1 (城关镇, 农商银行): 200000 disbursed 2025-01-10, 76550 due and paid 04-10, matures 07-20
    (20 days: the 30-day window): outstanding 123450 = 1234.50 yuan. L2 (柳湖镇, 邮储银行, borrower
    name with markup): 100000 due 03-01, 25000 paid → rate 0.2500, DPD 121, never visited.
    Repayment 101550 / 176550 = 0.5752; one township flag (柳湖镇); the target 10000.00 yuan."""
    return portfolio(
        loans=[
            loan(
                "L1",
                principal=200_000,
                disbursed_on=date(2025, 1, 10),
                maturity_date=date(2025, 7, 20),
                borrower_name="王秀英",
            ),
            loan(
                "L2",
                township_code=T2,
                bank_code="B2",
                principal=200_000,
                disbursed_on=date(2024, 12, 1),
                maturity_date=date(2025, 12, 1),
                borrower_name="李<b>芳</b>",
            ),
        ],
        installments=[
            inst("L1", 1, date(2025, 4, 10), 76_550),
            inst("L1", 2, date(2025, 7, 20), 123_450),
            inst("L2", 1, date(2025, 3, 1), 100_000),
            inst("L2", 2, date(2025, 12, 1), 100_000),
        ],
        allocations=[alloc("L1", 1, date(2025, 4, 10), 76_550), alloc("L2", 1, date(2025, 3, 1), 25_000)],
        visits=[visit("L1", date(2025, 5, 1), jobs_now=2)],
        snapshots=[
            {
                "business_date": date(2025, 5, 31),
                "county_code": COUNTY,
                "township_code": T1,
                "bank_code": "B1",
                "product_code": "P1",
                "status": "active",
                "bucket": "current",
                "five_class": "normal",
                "loan_count": 2,
                "outstanding_principal": 323_450,
                "overdue_principal": 100_000,
            },
        ],  # fmt: skip
        targets=[{"county_code": COUNTY, "year": 2025, "amount": 1_000_000}],
        regions=[
            {"code": COUNTY, "name": COUNTY_NAME, "level": "county"},
            {"code": T1, "name": "城关镇", "level": "township"},
            {"code": T2, "name": "柳湖镇", "level": "township"},
        ],
        banks=[{"bank_code": "B1", "bank_name": "农商银行"}, {"bank_code": "B2", "bank_name": "邮储银行"}],
    )


# --- a realistic county ---------------------------------------------------------------------

TOWNSHIPS = {
    "620302001000": "滨河路街道",
    "620302002000": "桂林路街道",
    "620302003000": "北京路街道",
    "620302004000": "新华路街道",
    "620302005000": "广州路街道",
    "620302100000": "宁远堡镇",
    "620302101000": "双湾镇",
}
BANKS = {
    "GSB": "甘肃银行金昌分行",
    "RCB": "金川农村商业银行",
    "PSBC": "中国邮政储蓄银行金昌市分行",
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = (
    "秀英",
    "桂兰",
    "玉梅",
    "海燕",
    "丽娟",
    "春花",
    "晓红",
    "建华",
    "淑珍",
    "小燕",
    "雪梅",
    "红霞",
    "文静",
    "慧敏",
)
PROJECTS = ("planting", "breeding", "processing", "ecommerce", "handicraft", "services", "agritourism")


def _months_after(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


def _month_ends(first: date, last: date) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(_months_after(d.replace(day=1), 1) - timedelta(days=1))
        d = _months_after(d.replace(day=1), 1)
    return out


def realistic(seed: int = 7, as_of: date = AS_OF) -> PortfolioFrames:
    rnd = random.Random(seed)
    loans, installments, allocations, visits = [], [], [], []
    town_codes, bank_codes = list(TOWNSHIPS), list(BANKS)
    for n in range(72):
        loan_id = f"{n + 1:04d}"
        town = town_codes[n % len(town_codes)]
        bank = bank_codes[(n * 5 // 7) % len(bank_codes)]
        disbursed = date(2024, 1, 5) + timedelta(days=int(n * 7.4) + rnd.randrange(0, 6))
        term = rnd.choice((12, 24, 24, 36))
        principal = rnd.choice((50_000, 80_000, 100_000, 150_000, 200_000, 300_000)) * 100
        fund = "FD-GSB" if bank == "GSB" else ("FD-RCB" if bank == "RCB" else None)
        behaviour = rnd.random()  # < 0.1 stops paying, < 0.2 pays late
        birth = date(1975 + rnd.randrange(0, 25), rnd.randrange(1, 13), rnd.randrange(1, 28))
        nid = f"620302{birth:%Y%m%d}{rnd.randrange(100, 999)}{rnd.randrange(0, 10)}"
        per = principal // term
        stop_at = rnd.randrange(2, 8) if behaviour < 0.1 else None
        if stop_at is not None and n % 2:  # some of the defaults are the 农商行 fund's
            bank, fund = "RCB", "FD-RCB"
        for seq in range(1, term + 1):
            due = _months_after(disbursed, seq)
            amount = per if seq < term else principal - per * (term - 1)
            installments.append(inst(loan_id, seq, due, amount))
            if due > as_of or (stop_at is not None and seq >= stop_at):
                continue
            late = rnd.randrange(3, 25) if behaviour < 0.2 and rnd.random() < 0.5 else 0
            paid_on = due + timedelta(days=late)
            if paid_on <= as_of:
                allocations.append(alloc(loan_id, seq, paid_on, amount))
        compensated_on = None  # the fund pays the bank 95 days after the first unpaid installment
        if stop_at is not None and fund == "FD-RCB":
            compensated_on = _months_after(disbursed, stop_at) + timedelta(days=95)
            if compensated_on > as_of:
                compensated_on = None
        loans.append(
            loan(
                loan_id,
                contract_no=f"JCFL{disbursed:%Y}{n + 1:04d}",
                borrower_name=rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                national_id=nid,
                township_code=town,
                village_code=town[:9] + f"{rnd.randrange(1, 9):03d}",
                bank_code=bank,
                guarantee_fund_id=fund,
                project_type=rnd.choice(PROJECTS),
                jobs_expected=rnd.randrange(1, 6),
                disbursed_on=disbursed,
                maturity_date=_months_after(disbursed, term),
                principal=principal,
                term_months=term,
                compensated_on=compensated_on,
                compensated_amount=None,
                status="overdue" if stop_at else "active",
            )
        )
        visit_on = disbursed + timedelta(days=rnd.randrange(20, 60))
        while visit_on <= as_of and rnd.random() < 0.93:
            visits.append(visit(loan_id, visit_on, rnd.choice(("operating", "operating", "expanding")), 2))
            visit_on += timedelta(days=rnd.randrange(60, 130))
    base = portfolio(
        loans=loans,
        installments=installments,
        allocations=allocations,
        visits=visits,
        funds=[
            {
                "fund_id": "FD-GSB",
                "name": "金川区妇女创业担保基金（甘肃银行）",
                "county_code": COUNTY,
                "bank_code": "GSB",
                "leverage": 5.0,
                "leverage_limit": 5.0,
                "risk_threshold": 0.05,
            },
            {
                "fund_id": "FD-RCB",
                "name": "金川区巾帼创业担保基金（农商行）",
                "county_code": COUNTY,
                "bank_code": "RCB",
                "leverage": 8.0,
                "leverage_limit": 10.0,
                "risk_threshold": 0.05,
            },
        ],  # fmt: skip
        fund_entries=[
            {
                "fund_id": "FD-GSB",
                "kind": "deposit",
                "amount": 30_000_000,
                "occurred_on": date(2024, 1, 2),
                "loan_id": None,
            },
            {
                "fund_id": "FD-RCB",
                "kind": "deposit",
                "amount": 100_000_000,
                "occurred_on": date(2024, 1, 2),
                "loan_id": None,
            },
        ],  # fmt: skip
        targets=[{"county_code": COUNTY, "year": as_of.year, "amount": 2_000_000_000}],
        regions=[
            {"code": COUNTY, "name": COUNTY_NAME, "level": "county"},
            *({"code": c, "name": name, "level": "township"} for c, name in TOWNSHIPS.items()),
        ],
        banks=[{"bank_code": c, "bank_name": name} for c, name in BANKS.items()],
    )
    snapshots = []
    ends = _month_ends(_months_after(as_of.replace(day=1), -11), as_of)
    for end in ends:
        if end.month in (10, 2):  # close of business did not run on those month-ends
            continue
        positions = loan_positions(base, end)
        for r in positions.iter_rows(named=True):
            snapshots.append(
                {
                    "business_date": end,
                    "county_code": COUNTY,
                    "township_code": r["township_code"],
                    "bank_code": r["bank_code"],
                    "product_code": r["product_code"],
                    "status": "overdue" if r["dpd"] > 0 else "active",
                    "bucket": r["bucket"],
                    "five_class": r["five_class"],
                    "loan_count": 1,
                    "outstanding_principal": r["outstanding_principal"],
                    "overdue_principal": r["overdue_principal"],
                }
            )
    entries = base.fund_entries.to_dicts()
    for r in base.loans.filter(pl.col("compensated_on").is_not_null()).iter_rows(named=True):
        entries.append(
            {
                "fund_id": r["guarantee_fund_id"],
                "kind": "compensation",
                "amount": r["principal"] // 2,
                "occurred_on": r["compensated_on"],
                "loan_id": r["loan_id"],
            }
        )
    return replace(
        base,
        snapshots=pl.DataFrame(snapshots, schema=SCHEMAS["snapshots"]),
        fund_entries=pl.DataFrame(entries, schema=SCHEMAS["fund_entries"]),
    )
