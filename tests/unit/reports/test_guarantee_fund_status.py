"""Guarantee fund status as of 2025-06-30. Worked out by hand:

F1 (leverage 5, limit 5, threshold 5 %): deposit 1000000 − compensation 150000 (05-20, loan G2)
   + recovery 30000 − withdrawal 10000 = balance 870000 (a 07-01 deposit is after as_of)
   G1 outstanding 2000000 − 500000 repaid = 1500000; G2 compensated 05-20 → left out;
   G3 matured 2025-01-01 and repaid; G4 disbursed after as_of.
   capacity 870000 × 5 − 1500000 = 2850000; leverage used 1500000 / 870000 = 1.7241
   compensation rate = G2 200000 / (G2 200000 + G3 matured 300000) = 0.4000 > 0.05 → flag
F2 (leverage 2.5, limit 2, threshold 10 %): deposit 333333; H1 outstanding 800000
   capacity 333333 × 2.5 = 833332.5 → 833333 (half-up) − 800000 = 33333
   leverage used 800000 / 333333 = 2.4000 > 2 → flag; nothing matured → rate 0.0000
"""

from datetime import date

from reports_factory import alloc, inst, loan, portfolio

from reports.builders.funds import guarantee_fund_status

AS_OF = date(2025, 6, 30)


def entry(fund: str, kind: str, amount: int, on: date, loan_id: str | None = None) -> dict:
    return {"fund_id": fund, "kind": kind, "amount": amount, "occurred_on": on, "loan_id": loan_id}


def frames():
    return portfolio(
        funds=[
            {
                "fund_id": "F1",
                "name": "县担保基金",
                "county_code": "620302000000",
                "bank_code": "B1",
                "leverage": 5.0,
                "leverage_limit": 5.0,
                "risk_threshold": 0.05,
            },
            {
                "fund_id": "F2",
                "name": "农商行专户",
                "county_code": "620302000000",
                "bank_code": "B2",
                "leverage": 2.5,
                "leverage_limit": 2.0,
                "risk_threshold": 0.10,
            },
        ],  # fmt: skip
        fund_entries=[
            entry("F1", "deposit", 1_000_000, date(2025, 1, 1)),
            entry("F1", "compensation", 150_000, date(2025, 5, 20), "G2"),
            entry("F1", "recovery", 30_000, date(2025, 6, 10), "G2"),
            entry("F1", "withdrawal", 10_000, date(2025, 6, 20)),
            entry("F1", "deposit", 500_000, date(2025, 7, 1)),
            entry("F2", "deposit", 333_333, date(2025, 2, 1)),
        ],
        loans=[
            loan(
                "G1",
                guarantee_fund_id="F1",
                principal=2_000_000,
                disbursed_on=date(2025, 1, 10),
                maturity_date=date(2026, 1, 10),
            ),
            loan(
                "G2",
                guarantee_fund_id="F1",
                principal=200_000,
                disbursed_on=date(2024, 5, 1),
                maturity_date=date(2025, 11, 1),
                compensated_on=date(2025, 5, 20),
                compensated_amount=150_000,
                status="compensated",
            ),
            loan(
                "G3",
                guarantee_fund_id="F1",
                principal=300_000,
                disbursed_on=date(2024, 1, 1),
                maturity_date=date(2025, 1, 1),
                status="settled",
            ),
            loan(
                "G4",
                guarantee_fund_id="F1",
                principal=1_000_000,
                disbursed_on=date(2025, 7, 15),
                maturity_date=date(2026, 7, 15),
            ),
            loan(
                "H1",
                guarantee_fund_id="F2",
                principal=800_000,
                disbursed_on=date(2025, 3, 1),
                maturity_date=date(2026, 3, 1),
            ),
            loan("N1", principal=700_000, disbursed_on=date(2025, 3, 1)),
        ],  # fmt: skip
        installments=[
            inst("G1", 1, date(2025, 4, 10), 500_000),
            inst("G2", 1, date(2024, 11, 1), 50_000),
            inst("G3", 1, date(2025, 1, 1), 300_000),
        ],
        allocations=[
            alloc("G1", 1, date(2025, 4, 10), 500_000),
            alloc("G2", 1, date(2024, 11, 1), 50_000),
            alloc("G3", 1, date(2025, 1, 1), 300_000),
        ],
    )


COLUMNS = (
    "fund_id", "balance", "guaranteed_loans", "guaranteed_outstanding", "capacity_left",
    "compensated_principal", "matured_or_compensated_principal", "leverage_flag", "compensation_flag",
)  # fmt: skip


def test_per_fund_figures_and_flags() -> None:
    report = guarantee_fund_status(frames(), AS_OF)
    assert report.rows.select(COLUMNS).rows() == [
        ("F1", 870_000, 1, 1_500_000, 2_850_000, 200_000, 500_000, False, True),
        ("F2", 333_333, 1, 800_000, 33_333, 0, 0, True, False),
    ]
    records = report.records()
    assert [(r["leverage_used"], r["compensation_rate"]) for r in records] == [
        ("1.7241", "0.4000"),
        ("2.4000", "0.0000"),
    ]
    assert records[0]["balance"] == "8700.00"
    assert records[0]["capacity_left"] == "28500.00"


def test_compensation_makes_the_balance_fall_on_its_date() -> None:
    before = guarantee_fund_status(frames(), date(2025, 5, 19)).rows.row(0, named=True)
    on = guarantee_fund_status(frames(), date(2025, 5, 20)).rows.row(0, named=True)
    assert before["balance"] == 1_000_000
    assert on["balance"] == 850_000
    # before its compensation G2 (150000 outstanding) is still guaranteed; from that day it is not
    assert before["guaranteed_outstanding"] == 1_650_000
    assert on["guaranteed_outstanding"] == 1_500_000
    assert (before["compensated_principal"], on["compensated_principal"]) == (0, 200_000)


def test_totals() -> None:
    t = guarantee_fund_status(frames(), AS_OF).total
    assert (t["funds"], t["balance"], t["guaranteed_outstanding"], t["capacity_left"]) == (
        2,
        1_203_333,
        2_300_000,
        2_883_333,
    )
    assert (t["leverage_flags"], t["compensation_flags"]) == (1, 1)


def test_no_funds() -> None:
    report = guarantee_fund_status(portfolio(), AS_OF)
    assert report.rows.height == 0
    assert report.total["balance"] == 0
    assert report.total_record()["leverage_used"] == "0.0000"
