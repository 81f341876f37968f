"""Beneficiaries (受益情况) for 2025-01-01..2025-03-31. Worked out by hand:

B1  lead W1        2024-06-01 (before the period)  1000000  T1  400000 repaid → 600000 outstanding
B2  W2 + W3 + W4   2025-02-10 (a partnership)       3000000  T1  jobs: visit 03-01 says 7 (04-15 after `to`)
B3  lead W1 again  2025-03-05 (a repeat borrower)   2000000  T2  visit without a job count → expected 3
B4  lead W5        2025-04-02 (after the period)    excluded everywhere
period: 4 women (W1..W4), 1 repeat (W1), 2 loans, 5000000, jobs 7 + 3 = 10 (expected 5 + 3 = 8);
stock on 03-31: cumulative 6000000, outstanding 600000 + 3000000 + 2000000 = 5600000.
Ages at disbursement: W2 born 1985-03-31 → 39 on 2025-02-10; W3 born 1970-12-01 → 54;
W4 born 1995-02-11 → 29 (30 the next day); W1 born 1990-05-10 → 34 on 2025-03-05.
"""

from datetime import date

from reports_factory import T1, T2, alloc, applicant, inst, loan, portfolio, visit

from reports.builders.beneficiaries import beneficiaries

FROM, TO = date(2025, 1, 1), date(2025, 3, 31)


def frames():
    return portfolio(
        loans=[
            loan(
                "B1",
                application_id="AP1",
                applicant_id="W1",
                principal=1_000_000,
                disbursed_on=date(2024, 6, 1),
                township_code=T1,
                jobs_expected=2,
            ),
            loan(
                "B2",
                application_id="AP2",
                applicant_id="W2",
                principal=3_000_000,
                disbursed_on=date(2025, 2, 10),
                township_code=T1,
                jobs_expected=5,
                project_type="breeding",
            ),
            loan(
                "B3",
                application_id="AP3",
                applicant_id="W1",
                principal=2_000_000,
                disbursed_on=date(2025, 3, 5),
                township_code=T2,
                jobs_expected=3,
            ),
            loan(
                "B4",
                application_id="AP4",
                applicant_id="W5",
                principal=9_000_000,
                disbursed_on=date(2025, 4, 2),
                township_code=T2,
                jobs_expected=9,
            ),
        ],  # fmt: skip
        installments=[inst("B1", 1, date(2024, 12, 1), 400_000)],
        allocations=[alloc("B1", 1, date(2024, 12, 1), 400_000)],
        members=[
            {"application_id": "AP1", "applicant_id": "W1"},
            {"application_id": "AP2", "applicant_id": "W2"},
            {"application_id": "AP2", "applicant_id": "W3"},
            {"application_id": "AP2", "applicant_id": "W4"},
            {"application_id": "AP3", "applicant_id": "W1"},
            {"application_id": "AP4", "applicant_id": "W5"},
        ],
        applicants=[
            applicant("W1", date(1990, 5, 10), ["rural"]),
            applicant("W2", date(1985, 3, 31), ["laid_off", "rural"]),
            applicant("W3", date(1970, 12, 1), ["registered_poor"]),
            applicant("W4", date(1995, 2, 11)),
            applicant("W5", date(1980, 1, 1)),
        ],
        visits=[
            visit("B2", date(2025, 3, 1), jobs_now=7),
            visit("B2", date(2025, 4, 15), jobs_now=9),
            visit("B3", date(2025, 3, 20), jobs_now=None),
        ],
    )


def test_totals() -> None:
    t = beneficiaries(frames(), FROM, TO).total
    assert t == {
        "women_supported": 4,
        "repeat_borrowers": 1,
        "loans_disbursed": 2,
        "amount_disbursed": 5_000_000,
        "jobs_created": 10,
        "jobs_expected": 8,
        "cumulative_amount": 6_000_000,
        "outstanding_balance": 5_600_000,
        "women_supported_cumulative": 4,
    }


def test_partnership_of_three_by_township() -> None:
    rows = beneficiaries(frames(), FROM, TO, ["township"]).rows
    got = rows.select(
        "township", "women_supported", "repeat_borrowers", "loans_disbursed", "amount_disbursed",
        "jobs_created", "cumulative_amount", "outstanding_balance",
    )  # fmt: skip
    assert got.rows() == [
        (T1, 3, 0, 1, 3_000_000, 7, 4_000_000, 3_600_000),
        (T2, 1, 1, 1, 2_000_000, 3, 2_000_000, 2_000_000),
    ]


def test_by_month_cumulative_runs_and_starts_at_the_period() -> None:
    rows = beneficiaries(frames(), FROM, TO, ["month"]).rows
    assert rows.select("month", "women_supported", "amount_disbursed", "cumulative_amount").rows() == [
        ("2025-02", 3, 3_000_000, 4_000_000),
        ("2025-03", 1, 2_000_000, 6_000_000),
    ]


def test_breakdowns() -> None:
    tables = beneficiaries(frames(), FROM, TO).tables
    cols = ["women_supported", "loans_disbursed", "amount_disbursed", "jobs_created"]
    # categories are the lead's and explode: B2 (lead W2) is in laid_off and rural; B3 (W1) in rural.
    assert tables["by_category"].select("category", *cols).rows() == [
        ("laid_off", 3, 1, 3_000_000, 7),
        ("rural", 4, 2, 5_000_000, 10),
    ]
    assert tables["by_project_type"].select("project_type", *cols).rows() == [
        ("breeding", 3, 1, 3_000_000, 7),
        ("planting", 1, 1, 2_000_000, 3),
    ]
    assert tables["by_region"].select("township", *cols).rows() == [
        (T1, 3, 1, 3_000_000, 7),
        (T2, 1, 1, 2_000_000, 3),
    ]
    # women by their own age; loans by the lead's age (W2 39 for B2, W1 34 for B3)
    assert tables["by_age_band"].select("age_band", *cols).rows() == [
        ("18-29", 1, 0, 0, 0),
        ("30-39", 2, 2, 5_000_000, 10),
        ("40-49", 0, 0, 0, 0),
        ("50-60", 1, 0, 0, 0),
        ("other", 0, 0, 0, 0),
        ("unknown", 0, 0, 0, 0),
    ]


def test_seed_example_230_wan_yuan_27_women_143_jobs() -> None:
    # 20 individual loans of 10万 expecting 6 jobs each, and three partnerships of 10万:
    # 3 members expecting 8 jobs, 2 members expecting 8, 2 members expecting 7.
    loans, members = [], []
    for i in range(20):
        loans.append(loan(f"I{i}", application_id=f"AI{i}", applicant_id=f"WI{i}", principal=10_000_000,
                          disbursed_on=date(2025, 2, 1), jobs_expected=6))  # fmt: skip
        members.append({"application_id": f"AI{i}", "applicant_id": f"WI{i}"})
    for name, size, jobs in (("PA", 3, 8), ("PB", 2, 8), ("PC", 2, 7)):
        loans.append(loan(name, application_id=f"A{name}", applicant_id=f"{name}0", principal=10_000_000,
                          disbursed_on=date(2025, 3, 1), jobs_expected=jobs))  # fmt: skip
        members += [{"application_id": f"A{name}", "applicant_id": f"{name}{k}"} for k in range(size)]
    t = beneficiaries(portfolio(loans=loans, members=members), FROM, TO).total
    assert (t["women_supported"], t["loans_disbursed"], t["amount_disbursed"], t["jobs_created"]) == (
        27,
        23,
        230_000_000,  # 230万元 in fen
        143,
    )


def test_no_loans_at_all() -> None:
    report = beneficiaries(portfolio(), FROM, TO, ["category"])
    assert report.rows.height == 0
    assert report.total["women_supported"] == 0
    assert report.total["amount_disbursed"] == 0
    assert report.tables["by_age_band"]["women_supported"].to_list() == [0, 0, 0, 0, 0, 0]
    assert beneficiaries(portfolio(), FROM, TO).rows.row(0, named=True)["loans_disbursed"] == 0
