"""Interest subsidy owed by the finance bureau, 2026-01-01..2026-06-30. Worked out by hand:

S1 (B1, P1): 2025-12-20 before the period; 2026-03-20 interest 10875 all subsidised; 2026-06-20 11000
S2 (B2, P1): 2026-03-20 interest 5000, half subsidised (2500); 2026-07-20 after the period
S3 (B1, P2): 2026-02-10 4000 subsidised; 2026-05-10 4000 subsidised, of which 1800 cancelled by a
             prepayment on 2026-04-01 → 2200 claimable
total interest 34875, subsidy 32375, cancelled 1800, claimable 30575
"""

from datetime import date

from reports_factory import alloc, inst, loan, portfolio

from reports.builders.subsidy import interest_subsidy

FROM, TO = date(2026, 1, 1), date(2026, 6, 30)


def sub(loan_id: str, seq: int, due: date, interest: int, subsidy: int) -> dict:
    return inst(
        loan_id,
        seq,
        due,
        0,
        interest=interest,
        subsidy_interest=subsidy,
        borrower_interest=interest - subsidy,
    )


def frames():
    return portfolio(
        loans=[
            loan(
                "S1", bank_code="B1", product_code="P1", principal=10_000_000, disbursed_on=date(2025, 10, 20)
            ),
            loan(
                "S2", bank_code="B2", product_code="P1", principal=5_000_000, disbursed_on=date(2025, 12, 20)
            ),
            loan(
                "S3",
                bank_code="B1",
                product_code="P2",
                principal=4_000_000,
                disbursed_on=date(2025, 11, 10),
                project_type="ecommerce",
            ),
        ],  # fmt: skip
        installments=[
            sub("S1", 1, date(2025, 12, 20), 100, 100),
            sub("S1", 2, date(2026, 3, 20), 10_875, 10_875),
            sub("S1", 3, date(2026, 6, 20), 11_000, 11_000),
            sub("S2", 1, date(2026, 3, 20), 5_000, 2_500),
            sub("S2", 2, date(2026, 7, 20), 5_000, 2_500),
            sub("S3", 1, date(2026, 2, 10), 4_000, 4_000),
            sub("S3", 2, date(2026, 5, 10), 4_000, 4_000),
        ],
        allocations=[alloc("S3", 2, date(2026, 4, 1), 0, cancelled_interest=1_800, cancelled_subsidy=1_800)],
    )


def test_by_quarter_bank_product() -> None:
    rows = interest_subsidy(frames(), FROM, TO).rows
    got = rows.select(
        "quarter", "bank", "product", "interest", "subsidy_interest", "cancelled_subsidy", "subsidy_due"
    )
    assert got.rows() == [
        ("2026Q1", "B1", "P1", 10_875, 10_875, 0, 10_875),
        ("2026Q1", "B1", "P2", 4_000, 4_000, 0, 4_000),
        ("2026Q1", "B2", "P1", 5_000, 2_500, 0, 2_500),
        ("2026Q2", "B1", "P1", 11_000, 11_000, 0, 11_000),
        ("2026Q2", "B1", "P2", 4_000, 4_000, 1_800, 2_200),
    ]


def test_total_and_by_bank_only() -> None:
    report = interest_subsidy(frames(), FROM, TO, by=["bank"])
    t = report.total
    assert (t["interest"], t["subsidy_interest"], t["cancelled_subsidy"], t["subsidy_due"]) == (
        34_875,
        32_375,
        1_800,
        30_575,
    )
    assert report.rows.select("bank", "subsidy_due").rows() == [("B1", 28_075), ("B2", 2_500)]
    assert report.total_record()["subsidy_due"] == "305.75"


def test_claim_list_per_quarter_and_loan() -> None:
    claims = interest_subsidy(frames(), FROM, TO).tables["claims"]
    got = claims.select(
        "quarter", "bank", "contract_no", "project_type", "principal", "disbursed_on", "term_months",
        "interest", "subsidy_interest", "subsidy_due",
    )  # fmt: skip
    assert got.rows() == [
        ("2026Q1", "B1", "C-S1", "planting", 10_000_000, date(2025, 10, 20), 12, 10_875, 10_875, 10_875),
        ("2026Q1", "B1", "C-S3", "ecommerce", 4_000_000, date(2025, 11, 10), 12, 4_000, 4_000, 4_000),
        ("2026Q1", "B2", "C-S2", "planting", 5_000_000, date(2025, 12, 20), 12, 5_000, 2_500, 2_500),
        ("2026Q2", "B1", "C-S1", "planting", 10_000_000, date(2025, 10, 20), 12, 11_000, 11_000, 11_000),
        ("2026Q2", "B1", "C-S3", "ecommerce", 4_000_000, date(2025, 11, 10), 12, 4_000, 4_000, 2_200),
    ]
    assert claims["national_id_masked"].to_list() == ["620302********1224"] * 5
    assert "national_id" not in claims.columns


def test_no_installments() -> None:
    report = interest_subsidy(portfolio(), FROM, TO)
    assert report.rows.height == 0
    assert report.total["subsidy_due"] == 0
    assert report.tables["claims"].height == 0
