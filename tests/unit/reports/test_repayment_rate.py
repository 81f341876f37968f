"""Repayment rate and on-time rate (SPEC section 6). Expected figures worked out by hand:

as of 2025-06-30 (amounts in fen)
  L1  T1  due 02-10 100000 paid 02-10 (on time) · due 03-10 100000 paid 03-20 (late)
          · due 07-10 100000 prepaid 04-01 (not due yet → not counted)
          → due 200000, repaid 200000, on time 100000
  L2  T1  compensated 05-20: due 03-20 100000 paid 60000 on 03-18 · due 05-20 100000 unpaid
          → due 200000, repaid 60000, on time 60000
  L3  T2  due 04-01 100000 paid 04-01, reversed 05-15 → due 100000, repaid 0, on time 0
  L4  T2  disbursed 07-05 (after as_of) → not counted
  total due 500000, repaid 260000 (52 %), on time 160000 (32 %)
"""

from datetime import date

from reports_factory import T1, T2, alloc, applicant, inst, loan, portfolio

from reports.builders.repayment import repayment_rate

AS_OF = date(2025, 6, 30)


def frames():
    return portfolio(
        loans=[
            loan(
                "L1", applicant_id="W1", township_code=T1, principal=300_000, disbursed_on=date(2025, 1, 10)
            ),
            loan(
                "L2",
                applicant_id="W2",
                township_code=T1,
                principal=200_000,
                disbursed_on=date(2025, 1, 20),
                status="compensated",
                compensated_on=date(2025, 5, 20),
                compensated_amount=140_000,
                guarantee_fund_id="F1",
            ),
            loan("L3", applicant_id="W3", township_code=T2, principal=100_000, disbursed_on=date(2025, 2, 1)),
            loan("L4", applicant_id="W3", township_code=T2, principal=100_000, disbursed_on=date(2025, 7, 5)),
        ],
        installments=[
            inst("L1", 1, date(2025, 2, 10), 100_000),
            inst("L1", 2, date(2025, 3, 10), 100_000),
            inst("L1", 3, date(2025, 7, 10), 100_000),
            inst("L2", 1, date(2025, 3, 20), 100_000),
            inst("L2", 2, date(2025, 5, 20), 100_000),
            inst("L3", 1, date(2025, 4, 1), 100_000),
            inst("L4", 1, date(2025, 8, 5), 100_000),
        ],
        allocations=[
            alloc("L1", 1, date(2025, 2, 10), 100_000),
            alloc("L1", 2, date(2025, 3, 20), 100_000),
            alloc("L1", 3, date(2025, 4, 1), 100_000),
            alloc("L2", 1, date(2025, 3, 18), 60_000),
            alloc("L3", 1, date(2025, 4, 1), 100_000, reversed_on=date(2025, 5, 15)),
        ],
        applicants=[
            applicant("W1", categories=["rural", "laid_off"]),
            applicant("W2", categories=["rural"]),
            applicant("W3", categories=["returning_migrant"]),
        ],
    )


def test_total_keeps_compensated_loan_and_ignores_prepayment_and_reversed_repayment() -> None:
    report = repayment_rate(frames(), AS_OF, [])
    t = report.total
    assert (t["principal_due"], t["principal_repaid"], t["on_time_repaid"]) == (500_000, 260_000, 160_000)
    assert (t["loan_count"], t["installment_count"]) == (3, 5)
    assert report.total_record()["repayment_rate"] == "0.5200"
    assert report.total_record()["on_time_rate"] == "0.3200"
    assert report.rows.height == 1  # [] = one total row


def test_reversed_repayment_counts_before_its_reversal_date_not_on_or_after() -> None:
    # On 05-14: L1 200000/200000 (on time 100000), L2 60000/100000 (second due 05-20 not due yet),
    # L3 100000/100000 paid on its due date → due 400000, repaid 360000, on time 260000.
    before = repayment_rate(frames(), date(2025, 5, 14)).total
    assert (before["principal_due"], before["principal_repaid"], before["on_time_repaid"]) == (
        400_000,
        360_000,
        260_000,
    )
    # On 05-15 the reversal stands: L3 repaid 0 → repaid 260000, on time 160000.
    on = repayment_rate(frames(), date(2025, 5, 15)).total
    assert (on["principal_due"], on["principal_repaid"], on["on_time_repaid"]) == (400_000, 260_000, 160_000)


def test_by_township_and_list_of_loans_below_full() -> None:
    report = repayment_rate(frames(), AS_OF, ["township"])
    rows = report.rows.select("township", "principal_due", "principal_repaid", "on_time_repaid", "loan_count")
    assert rows.to_dicts() == [
        {
            "township": T1,
            "principal_due": 400_000,
            "principal_repaid": 260_000,
            "on_time_repaid": 160_000,
            "loan_count": 2,
        },
        {
            "township": T2,
            "principal_due": 100_000,
            "principal_repaid": 0,
            "on_time_repaid": 0,
            "loan_count": 1,
        },
    ]
    assert [r["repayment_rate"] for r in report.records()] == ["0.6500", "0.0000"]
    below = report.tables["below_full"]
    assert below.select(
        "contract_no", "national_id_masked", "township", "bank", "principal_due", "principal_repaid"
    ).rows() == [
        ("C-L3", "620302********1224", T2, "B1", 100_000, 0),
        ("C-L2", "620302********1224", T1, "B1", 200_000, 60_000),
    ]
    assert [r["rate"] for r in report.records("below_full")] == ["0.0000", "0.3000"]
    assert "national_id" not in below.columns


def test_by_due_month() -> None:
    rows = repayment_rate(frames(), AS_OF, ["month"]).rows
    assert rows.select("month", "principal_due", "principal_repaid", "on_time_repaid").rows() == [
        ("2025-02", 100_000, 100_000, 100_000),
        ("2025-03", 200_000, 160_000, 60_000),
        ("2025-04", 100_000, 0, 0),
        ("2025-05", 100_000, 0, 0),
    ]


def test_multi_category_applicant_counts_in_each_category_but_once_in_total() -> None:
    report = repayment_rate(frames(), AS_OF, ["category"])
    assert report.rows.select("category", "principal_due", "principal_repaid", "loan_count").rows() == [
        ("laid_off", 200_000, 200_000, 1),
        ("returning_migrant", 100_000, 0, 1),
        ("rural", 400_000, 260_000, 2),
    ]
    assert report.total["principal_due"] == 500_000
    assert report.total["loan_count"] == 3


def test_overpaid_installment_counts_only_up_to_its_principal() -> None:
    # 150000 allocated to a 100000 installment (e.g. a data-entry excess): repaid 100000, not 150000.
    f = portfolio(
        loans=[loan("X", principal=200_000, disbursed_on=date(2025, 1, 1))],
        installments=[inst("X", 1, date(2025, 2, 1), 100_000), inst("X", 2, date(2025, 8, 1), 100_000)],
        allocations=[alloc("X", 1, date(2025, 1, 20), 150_000)],
    )
    t = repayment_rate(f, AS_OF).total
    assert (t["principal_due"], t["principal_repaid"], t["on_time_repaid"]) == (100_000, 100_000, 100_000)


def test_no_loans_at_all() -> None:
    empty = portfolio()
    total = repayment_rate(empty, AS_OF).total
    assert total == {
        "principal_due": 0,
        "principal_repaid": 0,
        "on_time_repaid": 0,
        "loan_count": 0,
        "installment_count": 0,
        "repayment_rate": 0.0,
        "on_time_rate": 0.0,
    }
    report = repayment_rate(empty, AS_OF, ["township", "category"])
    assert report.rows.height == 0
    assert report.tables["below_full"].height == 0
    assert report.total_record()["repayment_rate"] == "0.0000"
