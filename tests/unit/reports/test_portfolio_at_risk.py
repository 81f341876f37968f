"""Portfolio at risk (SEEP/CGAP) as of a date. Figures worked out by hand, as of 2025-06-30:

loan bank  principal  standing on 06-30                                   outstanding  DPD  overdue principal
P1   B1    1200000    1st paid; 2nd due 06-30 today (0 on the due date);   800000      0         0
                      a penalty accrued 07-01 (after as_of) is ignored
P2   B1     500000    1st (250000) due 06-29 unpaid                        500000      1    250000
P3   B1     600000    1st due 05-16: interest 6000 + principal 294000      306000     45      6000
                      paid, 6000 principal short
P4   B2     400000    1st paid 10 days late; its penalty 300 (accrued      200000    122         0
                      03-10) unpaid → borrower-owed part open since 02-28
P5   B2     300000    written off 06-01                                    excluded
P6   B2     900000    disbursed 07-10 (after as_of)                        excluded
P7   B2     100000    fully repaid 04-01                                   excluded
P8   B2     200000    compensated 06-15 (stays: still owed), due 03-01     200000    121    200000
P9   B2     100000    paid 05-31 on its due date, reversed 06-10           100000     30    100000
total outstanding 2106000; PAR1 (DPD > 1) 806000; PAR30 (> 30) 706000; PAR90 (> 90) 400000;
overdue principal 556000.
"""

from datetime import date

import polars as pl
from reports_factory import alloc, inst, loan, portfolio

from reports.builders.asof import bucket_of, five_class_of
from reports.builders.par import portfolio_at_risk

AS_OF = date(2025, 6, 30)
JAN1 = date(2025, 1, 1)


def frames():
    return portfolio(
        loans=[
            loan("P1", bank_code="B1", principal=1_200_000, disbursed_on=JAN1),
            loan("P2", bank_code="B1", principal=500_000, disbursed_on=JAN1),
            loan("P3", bank_code="B1", principal=600_000, disbursed_on=JAN1),
            loan("P4", bank_code="B2", principal=400_000, disbursed_on=JAN1),
            loan(
                "P5",
                bank_code="B2",
                principal=300_000,
                disbursed_on=date(2024, 6, 1),
                written_off_on=date(2025, 6, 1),
                status="written_off",
            ),
            loan("P6", bank_code="B2", principal=900_000, disbursed_on=date(2025, 7, 10)),
            loan("P7", bank_code="B2", principal=100_000, disbursed_on=JAN1, status="settled"),
            loan(
                "P8",
                bank_code="B2",
                principal=200_000,
                disbursed_on=date(2024, 9, 1),
                compensated_on=date(2025, 6, 15),
                status="compensated",
            ),
            loan("P9", bank_code="B2", principal=100_000, disbursed_on=JAN1),
        ],
        installments=[
            inst("P1", 1, date(2025, 3, 1), 400_000, borrower_interest=10_000),
            inst("P1", 2, date(2025, 6, 30), 400_000, borrower_interest=10_000),
            inst("P1", 3, date(2025, 9, 1), 400_000),
            inst("P2", 1, date(2025, 6, 29), 250_000),
            inst("P2", 2, date(2025, 12, 29), 250_000),
            inst("P3", 1, date(2025, 5, 16), 300_000, borrower_interest=6_000),
            inst("P3", 2, date(2025, 11, 16), 300_000),
            inst("P4", 1, date(2025, 2, 28), 200_000, borrower_interest=2_000),
            inst("P4", 2, date(2025, 8, 28), 200_000),
            inst("P5", 1, date(2024, 12, 1), 300_000),
            inst("P6", 1, date(2025, 8, 10), 900_000),
            inst("P7", 1, date(2025, 4, 1), 100_000),
            inst("P8", 1, date(2025, 3, 1), 200_000),
            inst("P9", 1, date(2025, 5, 31), 100_000),
        ],
        allocations=[
            alloc("P1", 1, date(2025, 3, 1), 400_000, interest=10_000),
            alloc("P3", 1, date(2025, 5, 16), 294_000, interest=6_000),
            alloc("P4", 1, date(2025, 3, 10), 200_000, interest=2_000),
            alloc("P7", 1, date(2025, 4, 1), 100_000),
            alloc("P9", 1, date(2025, 5, 31), 100_000, reversed_on=date(2025, 6, 10)),
        ],
        penalties=[
            {"loan_id": "P1", "seq": 1, "accrual_date": date(2025, 7, 1), "amount": 500},
            {"loan_id": "P4", "seq": 1, "accrual_date": date(2025, 3, 10), "amount": 300},
        ],
    )


def test_totals_par_is_entire_outstanding_of_late_loans() -> None:
    report = portfolio_at_risk(frames(), AS_OF, [])
    t = report.total
    assert t["loan_count"] == 6
    assert t["outstanding_principal"] == 2_106_000
    assert (t["par1_principal"], t["par30_principal"], t["par90_principal"]) == (806_000, 706_000, 400_000)
    assert (t["par1_loans"], t["par30_loans"], t["par90_loans"]) == (4, 3, 2)
    assert t["overdue_principal"] == 556_000
    r = report.total_record()
    assert (r["par1"], r["par30"], r["par90"], r["arrears_rate"]) == ("0.3827", "0.3352", "0.1899", "0.2640")
    assert r["outstanding_principal"] == "21060.00"


def test_per_loan_dpd_bucket_and_five_class() -> None:
    loans = portfolio_at_risk(frames(), AS_OF).tables["loans"]
    got = loans.select(
        "contract_no", "dpd", "bucket", "five_class", "outstanding_principal", "overdue_principal"
    )
    assert got.rows() == [
        ("C-P4", 122, "91-180", "substandard", 200_000, 0),
        ("C-P8", 121, "91-180", "substandard", 200_000, 200_000),
        ("C-P3", 45, "31-90", "special_mention", 306_000, 6_000),
        ("C-P9", 30, "1-30", "special_mention", 100_000, 100_000),
        ("C-P2", 1, "1-30", "special_mention", 500_000, 250_000),
        ("C-P1", 0, "current", "normal", 800_000, 0),
    ]
    assert loans.filter(pl.col("contract_no") == "C-P8")["compensated"].to_list() == [True]
    overdue = portfolio_at_risk(frames(), AS_OF).tables["overdue"]
    assert overdue["contract_no"].to_list() == ["C-P4", "C-P8", "C-P3", "C-P9", "C-P2"]
    assert overdue["national_id_masked"].to_list() == ["620302********1224"] * 5


def test_bucket_and_five_class_distributions() -> None:
    tables = portfolio_at_risk(frames(), AS_OF).tables
    assert tables["buckets"].select("bucket", "loan_count", "outstanding_principal").rows() == [
        ("current", 1, 800_000),
        ("1-30", 2, 600_000),
        ("31-90", 1, 306_000),
        ("91-180", 2, 400_000),
        ("181+", 0, 0),
    ]
    assert tables["five_classes"].select("five_class", "loan_count", "outstanding_principal").rows() == [
        ("normal", 1, 800_000),
        ("special_mention", 3, 906_000),
        ("substandard", 2, 400_000),
        ("doubtful", 0, 0),
        ("loss", 0, 0),
    ]


def test_by_bank() -> None:
    rows = portfolio_at_risk(frames(), AS_OF, ["bank"]).rows
    assert rows.select(
        "bank",
        "loan_count",
        "outstanding_principal",
        "par1_principal",
        "par30_principal",
        "overdue_principal",
    ).rows() == [
        ("B1", 3, 1_606_000, 306_000, 306_000, 256_000),
        ("B2", 3, 500_000, 500_000, 400_000, 300_000),
    ]


def test_reversed_repayment_and_write_off_follow_their_dates() -> None:
    # On 06-05 P9's repayment still stands (reversed 06-10): P9 is fully repaid, so not listed.
    assert (
        "C-P9" not in portfolio_at_risk(frames(), date(2025, 6, 5)).tables["loans"]["contract_no"].to_list()
    )
    # P5 alone: on 05-31 it is live, 181 days past its 2024-12-01 due date; written off on 06-01.
    only_p5 = portfolio(
        loans=[loan("P5", principal=300_000, disbursed_on=date(2024, 6, 1), written_off_on=date(2025, 6, 1))],
        installments=[inst("P5", 1, date(2024, 12, 1), 300_000)],
    )
    before = portfolio_at_risk(only_p5, date(2025, 5, 31)).tables["loans"]
    assert before.select("dpd", "bucket", "five_class").rows() == [(181, "181+", "substandard")]
    assert portfolio_at_risk(only_p5, date(2025, 6, 1)).total["loan_count"] == 0


def test_dpd_class_boundaries() -> None:
    dpd = pl.DataFrame({"d": [0, 1, 30, 31, 90, 91, 180, 181, 270, 271, 360, 361]})
    got = dpd.select(bucket_of(pl.col("d")).alias("b"), five_class_of(pl.col("d")).alias("f"))
    assert got["b"].to_list() == [
        "current", "1-30", "1-30", "31-90", "31-90", "91-180", "91-180",
        "181+", "181+", "181+", "181+", "181+",
    ]  # fmt: skip
    assert got["f"].to_list() == [
        "normal", "special_mention", "special_mention", "special_mention", "special_mention", "substandard",
        "substandard", "substandard", "substandard", "doubtful", "doubtful", "loss",
    ]  # fmt: skip


def test_no_loans_at_all() -> None:
    report = portfolio_at_risk(portfolio(), AS_OF, ["township"])
    assert report.rows.height == 0
    assert report.total["outstanding_principal"] == 0
    assert report.total_record()["par30"] == "0.0000"
    assert report.tables["buckets"]["loan_count"].to_list() == [0, 0, 0, 0, 0]
