"""County risk report for county C on 2025-06-30. Worked out by hand:

K1 T1 B1  100000, 01-10; 50000 due 04-10 paid on time; matures 07-20 (20 days → 30-day window); visited 05-01
K2 T2 B2  200000, 2024-12-01; 100000 due 03-01 unpaid → DPD 121; matures 08-25 (56 days → 60); never visited
K3 T2 B2  300000, 05-15 (46 days ago: too young for the visit check); fund FD1
K4 T1 B1  100000, 2024-09-01; 50000 due 03-01 paid; matures 09-20 (82 days → 90); last visit 03-15 (107 days)
K5 in another county: ignored everywhere.
repayment: T1 100000/100000, T2 0/100000 (flag); total 100000/200000 = 0.5000
PAR: outstanding 50000 + 200000 + 300000 + 50000 = 600000; PAR30 = K2 200000 → 0.3333; arrears 100000 → 0.1667
fund FD1: balance 10000, guarantees K3 300000 → leverage 30x > limit 5 (flag)
"""

from dataclasses import replace
from datetime import date

import polars as pl
from reports_factory import COUNTY, T1, T2, alloc, inst, loan, portfolio, visit

from reports.builders.county_risk import county_risk, restrict_to_county

AS_OF = date(2025, 6, 30)
OTHER = "620321000000"


def snap(on: date, bucket: str, count: int, outstanding: int, overdue: int = 0, **kw) -> dict:
    row = {
        "business_date": on, "county_code": COUNTY, "township_code": T1, "bank_code": "B1",
        "product_code": "P1", "status": "active", "bucket": bucket, "five_class": "normal",
        "loan_count": count, "outstanding_principal": outstanding, "overdue_principal": overdue,
    }  # fmt: skip
    row.update(kw)
    return row


def frames():
    return portfolio(
        loans=[
            loan(
                "K1",
                applicant_id="W1",
                township_code=T1,
                bank_code="B1",
                principal=100_000,
                disbursed_on=date(2025, 1, 10),
                maturity_date=date(2025, 7, 20),
                jobs_expected=2,
            ),
            loan(
                "K2",
                applicant_id="W2",
                township_code=T2,
                bank_code="B2",
                principal=200_000,
                disbursed_on=date(2024, 12, 1),
                maturity_date=date(2025, 8, 25),
                jobs_expected=2,
            ),
            loan(
                "K3",
                applicant_id="W3",
                township_code=T2,
                bank_code="B2",
                principal=300_000,
                disbursed_on=date(2025, 5, 15),
                maturity_date=date(2026, 5, 15),
                jobs_expected=2,
                guarantee_fund_id="FD1",
            ),
            loan(
                "K4",
                applicant_id="W4",
                township_code=T1,
                bank_code="B1",
                principal=100_000,
                disbursed_on=date(2024, 9, 1),
                maturity_date=date(2025, 9, 20),
                jobs_expected=2,
            ),
            loan(
                "K5",
                applicant_id="W5",
                county_code=OTHER,
                township_code="620321001000",
                principal=900_000,
                disbursed_on=date(2025, 1, 1),
                maturity_date=date(2025, 7, 1),
                jobs_expected=9,
            ),
        ],  # fmt: skip
        installments=[
            inst("K1", 1, date(2025, 4, 10), 50_000),
            inst("K1", 2, date(2025, 7, 20), 50_000),
            inst("K2", 1, date(2025, 3, 1), 100_000),
            inst("K2", 2, date(2025, 8, 25), 100_000),
            inst("K4", 1, date(2025, 3, 1), 50_000),
            inst("K4", 2, date(2025, 9, 20), 50_000),
            inst("K5", 1, date(2025, 2, 1), 900_000),
        ],
        allocations=[alloc("K1", 1, date(2025, 4, 10), 50_000), alloc("K4", 1, date(2025, 3, 1), 50_000)],
        visits=[
            visit("K1", date(2025, 5, 1), jobs_now=3),
            visit("K4", date(2025, 3, 15), jobs_now=None),
        ],
        funds=[
            {
                "fund_id": "FD1",
                "name": "县妇联担保基金",
                "county_code": COUNTY,
                "bank_code": "B2",
                "leverage": 5.0,
                "leverage_limit": 5.0,
                "risk_threshold": 0.05,
            },
            {
                "fund_id": "FD9",
                "name": "other",
                "county_code": OTHER,
                "bank_code": "B9",
                "leverage": 5.0,
                "leverage_limit": 5.0,
                "risk_threshold": 0.05,
            },
        ],  # fmt: skip
        fund_entries=[
            {
                "fund_id": "FD1",
                "kind": "deposit",
                "amount": 10_000,
                "occurred_on": date(2025, 1, 1),
                "loan_id": None,
            },
        ],
        snapshots=[
            snap(date(2025, 6, 30), "current", 3, 400_000),
            snap(date(2025, 6, 30), "91-180", 1, 200_000, 100_000, status="overdue"),
            snap(date(2025, 6, 30), "current", 2, 0, status="settled"),
            snap(date(2025, 6, 30), "181+", 5, 999_000, county_code=OTHER),
            snap(date(2025, 6, 15), "181+", 1, 500_000),
            snap(date(2025, 5, 31), "current", 2, 500_000),
        ],
        targets=[{"county_code": COUNTY, "year": 2025, "amount": 1_000_000}],
        regions=[
            {"code": T1, "name": "城关镇", "level": "township"},
            {"code": T2, "name": "柳湖镇", "level": "township"},
        ],
        banks=[{"bank_code": "B1", "bank_name": "农商银行"}, {"bank_code": "B2", "bank_name": "邮储银行"}],
    )


def test_headline() -> None:
    report = county_risk(frames(), AS_OF, COUNTY)
    h = report.headline
    assert (h["loans_disbursed"], h["cumulative_amount"], h["live_loans"]) == (4, 700_000, 4)
    assert (h["outstanding_principal"], h["principal_due"], h["principal_repaid"]) == (
        600_000,
        200_000,
        100_000,
    )
    assert (h["par30_principal"], h["overdue_principal"]) == (200_000, 100_000)
    assert (h["women_supported"], h["jobs_created"], h["jobs_expected"]) == (4, 9, 8)
    assert h["flags"] == 2
    r = report.headline_record()
    assert (r["repayment_rate"], r["on_time_rate"], r["par30"], r["arrears_rate"]) == (
        "0.5000",
        "0.5000",
        "0.3333",
        "0.1667",
    )
    assert r["outstanding_principal"] == "6000.00"


def test_partnership_members_count_among_the_women_supported() -> None:
    """K1's application is a partnership of W1 and W6; K5's member W7 is in another county. The page reads no
    applications frame (the loader leaves it empty): the members go with their loans."""
    members = [
        {"application_id": "AP-K1", "applicant_id": "W6"},
        {"application_id": "AP-K5", "applicant_id": "W7"},
    ]
    base = frames()
    with_members = replace(base, members=pl.DataFrame(members, schema=base.members.schema))
    assert county_risk(with_members, AS_OF, COUNTY).headline["women_supported"] == 5
    alone = restrict_to_county(with_members, COUNTY)
    assert alone.members["applicant_id"].to_list() == ["W6"]
    assert restrict_to_county(alone, COUNTY) is alone  # already the county's alone: nothing to filter
    assert county_risk(alone, AS_OF, COUNTY).headline["women_supported"] == 5


def test_township_and_bank_tables() -> None:
    report = county_risk(frames(), AS_OF, COUNTY)
    cols = ("principal_due", "principal_repaid", "loan_count", "outstanding_principal", "par30_principal")
    assert report.townships.select("township", "township_name", *cols).rows() == [
        (T1, "城关镇", 100_000, 100_000, 2, 100_000, 0),
        (T2, "柳湖镇", 100_000, 0, 2, 500_000, 200_000),
    ]
    assert report.banks.select("bank", "bank_name", *cols).rows() == [
        ("B1", "农商银行", 100_000, 100_000, 2, 100_000, 0),
        ("B2", "邮储银行", 100_000, 0, 2, 500_000, 200_000),
    ]


def test_overdue_list_maturities_and_missing_visits() -> None:
    report = county_risk(frames(), AS_OF, COUNTY)
    assert report.overdue.select("contract_no", "national_id_masked", "dpd").rows() == [
        ("C-K2", "620302********1224", 121)
    ]
    assert report.maturities.select("contract_no", "days_to_maturity", "window").rows() == [
        ("C-K1", 20, 30),
        ("C-K2", 56, 60),
        ("C-K4", 82, 90),
    ]
    assert report.maturity_summary.rows() == [(30, 1, 50_000), (60, 2, 250_000), (90, 3, 300_000)]
    assert report.no_recent_visit.select("contract_no", "last_visit_on", "days_since_visit").rows() == [
        ("C-K2", None, None),
        ("C-K4", date(2025, 3, 15), 107),
    ]


def test_par_trend_from_month_end_snapshots() -> None:
    report = county_risk(frames(), AS_OF, COUNTY)
    trend = report.par_trend
    assert trend.height == 12
    assert trend["month_end"].to_list()[0] == date(2024, 7, 31)
    assert trend.tail(2).select(
        "month_end", "has_snapshot", "loan_count", "outstanding_principal", "at_risk_principal"
    ).rows() == [
        (date(2025, 5, 31), True, 2, 500_000, 0),
        (date(2025, 6, 30), True, 4, 600_000, 200_000),
    ]
    assert trend["has_snapshot"].sum() == 2
    assert report.records("par_trend")[-1]["par"] == "0.3333"  # 200000 / 600000


def test_lending_against_target_and_flags() -> None:
    report = county_risk(frames(), AS_OF, COUNTY)
    assert report.lending_total["amount_disbursed"] == 400_000  # K1 (Jan) + K3 (May)
    assert report.lending.filter(report.lending["month"] == "2025-05")["cumulative_amount"].to_list() == [
        400_000
    ]
    assert report.flags.rows() == [
        (
            "township_below_full_repayment",
            T2,
            "柳湖镇还贷率0.00%，低于100%",
            "柳湖镇: repayment rate 0.00%, below 100%",
        ),
        (
            "fund_leverage_above_limit",
            "FD1",
            "担保基金「县妇联担保基金」放大倍数30.00倍，超过上限5倍",
            "Guarantee fund 县妇联担保基金: leverage 30.00x, above its limit of 5x",
        ),
    ]


def test_compensation_rate_flag_text() -> None:
    f = frames()
    f = portfolio(
        loans=[
            loan(
                "Z",
                guarantee_fund_id="FD1",
                principal=100_000,
                disbursed_on=date(2024, 1, 1),
                maturity_date=date(2025, 1, 1),
                compensated_on=date(2025, 3, 1),
            )
        ],  # fmt: skip
        funds=f.funds.to_dicts(),
        fund_entries=[
            {
                "fund_id": "FD1",
                "kind": "deposit",
                "amount": 1_000_000,
                "occurred_on": date(2024, 1, 1),
                "loan_id": None,
            }
        ],
    )
    flags = county_risk(f, AS_OF, COUNTY).flags
    assert flags["code"].to_list() == ["fund_compensation_rate_above_threshold"]
    assert flags["text_zh"].to_list() == ["担保基金「县妇联担保基金」代偿率100.00%，超过风险阈值5.00%"]


def test_empty_county() -> None:
    report = county_risk(portfolio(), AS_OF, COUNTY)
    assert report.headline["live_loans"] == 0
    assert report.headline["outstanding_principal"] == 0
    assert report.townships.height == 0
    assert report.flags.height == 0
    assert report.par_trend.height == 12
    assert report.maturity_summary.rows() == [(30, 0, 0), (60, 0, 0), (90, 0, 0)]
