"""Lending target: 2026 disbursements of county C by month against its 2000万元 target.

Jan: 50万 + 30万 = 80万 (2 loans); Mar: 100万 → cumulative 180万 = 9 % of 2000万.
Excluded: 2025-12-30 (last year), 2026-04-10 (after as_of 03-31), another county's loan.
"""

from datetime import date

from reports_factory import COUNTY, loan, portfolio

from reports.builders.lending_target import lending_target

AS_OF = date(2026, 3, 31)
WAN = 1_000_000  # 1万元 in fen


def frames():
    return portfolio(
        loans=[
            loan("A", principal=50 * WAN, disbursed_on=date(2026, 1, 15)),
            loan("B", principal=30 * WAN, disbursed_on=date(2026, 1, 20)),
            loan("C", principal=100 * WAN, disbursed_on=date(2026, 3, 3)),
            loan("D", principal=70 * WAN, disbursed_on=date(2026, 4, 10)),
            loan("E", principal=60 * WAN, disbursed_on=date(2025, 12, 30)),
            loan("F", principal=40 * WAN, disbursed_on=date(2026, 2, 1), county_code="620321000000"),
        ],
        targets=[
            {"county_code": COUNTY, "year": 2026, "amount": 2000 * WAN},
            {"county_code": COUNTY, "year": 2025, "amount": 1500 * WAN},
        ],
    )


def test_by_month_with_cumulative_share() -> None:
    report = lending_target(frames(), AS_OF, COUNTY)
    rows = report.rows
    assert rows["month"].to_list()[0] == "2026-01" and rows["month"].to_list()[-1] == "2026-12"
    assert rows.head(4).select(
        "month", "elapsed", "loans_disbursed", "amount_disbursed", "cumulative_amount"
    ).rows() == [
        ("2026-01", True, 2, 80 * WAN, 80 * WAN),
        ("2026-02", True, 0, 0, 80 * WAN),
        ("2026-03", True, 1, 100 * WAN, 180 * WAN),
        ("2026-04", False, 0, 0, 180 * WAN),
    ]
    assert [r["share"] for r in report.records()][:3] == ["0.0400", "0.0400", "0.0900"]
    assert rows["target"].to_list() == [2000 * WAN] * 12


def test_total_share_achieved() -> None:
    report = lending_target(frames(), AS_OF, COUNTY)
    t = report.total
    assert (t["target"], t["amount_disbursed"], t["loans_disbursed"], t["remaining"]) == (
        2000 * WAN,
        180 * WAN,
        3,
        1820 * WAN,
    )
    assert t["has_target"] is True
    assert report.total_record()["achieved"] == "0.0900"
    assert report.total_record()["target"] == "20000000.00"


def test_county_without_target_or_loans() -> None:
    report = lending_target(portfolio(), AS_OF, COUNTY)
    assert report.rows.height == 12
    assert report.rows["cumulative_amount"].to_list() == [0] * 12
    assert (report.total["target"], report.total["has_target"]) == (0, False)
    assert report.total_record()["achieved"] == "0.0000"
