"""Entrepreneurship funnel, survival and jobs as of 2026-06-30. Worked out by hand:

trainings ≤ as_of: W1 twice, W2 (W3's finishes after) → 2 women, 3 trainings
applications ≤ as_of: AP1 (W1), AP2 (W2 + partner W4), AP5 (W5), AP6 (W6) → 5 women, 4 applications
loans ≤ as_of: L1 (W1) 2024-07-01, L2 (W2, W4) 2025-08-01, L3 (W5) 2026-02-01, L4 (W6) 2024-02-29 → 5 women
latest visits: L1 closed (2026-03-01), L2 struggling, L3 none, L4 expanding → still operating L2, L4: 3 women
12 months: L1 (mark 2025-07-01) latest visit after it says closed; L4 (mark 2025-02-28, clamped)
           latest after it says expanding; L2, L3 too young → 1 surviving, 1 closed
24 months: only L4 (mark 2026-02-28) is old enough, and it has no visit since → unknown
jobs: L1 latest count 0, L2 6, L3 none → expected 1, L4 latest counted 4 (the 2026 visit counted none)
"""

from datetime import date

from reports_factory import application, loan, portfolio, visit

from reports.builders.entrepreneurship import entrepreneurship

AS_OF = date(2026, 6, 30)


def frames():
    return portfolio(
        trainings=[
            {"applicant_id": "W1", "finished_on": date(2024, 5, 1), "certificate_no": "SYB-1"},
            {"applicant_id": "W1", "finished_on": date(2024, 9, 1), "certificate_no": "EC-1"},
            {"applicant_id": "W2", "finished_on": date(2024, 6, 1), "certificate_no": "SYB-2"},
            {"applicant_id": "W3", "finished_on": date(2026, 7, 15), "certificate_no": "SYB-3"},
        ],
        applications=[
            application("AP1", "W1", date(2024, 6, 10)),
            application("AP2", "W2", date(2024, 7, 1)),
            application("AP3", "W3", date(2026, 7, 1)),
            application("AP5", "W5", date(2026, 1, 1)),
            application("AP6", "W6", date(2024, 1, 15)),
        ],
        members=[
            {"application_id": "AP2", "applicant_id": "W2"},
            {"application_id": "AP2", "applicant_id": "W4"},
        ],
        loans=[
            loan(
                "L1", application_id="AP1", applicant_id="W1", disbursed_on=date(2024, 7, 1), jobs_expected=2
            ),
            loan(
                "L2", application_id="AP2", applicant_id="W2", disbursed_on=date(2025, 8, 1), jobs_expected=4
            ),
            loan(
                "L3", application_id="AP5", applicant_id="W5", disbursed_on=date(2026, 2, 1), jobs_expected=1
            ),
            loan(
                "L4", application_id="AP6", applicant_id="W6", disbursed_on=date(2024, 2, 29), jobs_expected=3
            ),
            loan(
                "L9", application_id="AP3", applicant_id="W3", disbursed_on=date(2026, 7, 20), jobs_expected=5
            ),
        ],
        visits=[
            visit("L1", date(2025, 7, 10), "operating", 3),
            visit("L1", date(2026, 3, 1), "closed", 0),
            visit("L2", date(2026, 5, 1), "struggling", 6),
            visit("L4", date(2025, 2, 28), "operating", 4),
            visit("L4", date(2026, 1, 10), "expanding", None),
        ],
    )


def test_funnel() -> None:
    report = entrepreneurship(frames(), AS_OF)
    assert report.rows.rows() == [
        ("trained", 2, 3, "trainings"),
        ("applied", 5, 4, "applications"),
        ("disbursed", 5, 4, "loans"),
        ("still_operating", 3, 2, "loans"),
    ]


def test_survival_at_12_and_24_months() -> None:
    report = entrepreneurship(frames(), AS_OF)
    survival = report.tables["survival"]
    assert survival.select("months", "eligible_loans", "surviving", "closed", "unknown", "known").rows() == [
        (12, 2, 1, 1, 0, 2),
        (24, 1, 0, 0, 1, 0),
    ]
    assert [r["survival_rate"] for r in report.records("survival")] == ["0.5000", "0.0000"]


def test_jobs_created_against_expected() -> None:
    t = entrepreneurship(frames(), AS_OF).total
    assert (t["jobs_expected"], t["jobs_created"]) == (10, 11)
    assert (t["loans_with_job_count"], t["jobs_now_reported"], t["jobs_expected_reported"]) == (3, 10, 9)
    assert (t["loans_disbursed"], t["loans_operating"]) == (4, 2)


def test_no_data_at_all() -> None:
    report = entrepreneurship(portfolio(), AS_OF)
    assert report.rows["women"].to_list() == [0, 0, 0, 0]
    assert report.tables["survival"].select("eligible_loans", "unknown").rows() == [(0, 0), (0, 0)]
    assert report.total["jobs_created"] == 0
