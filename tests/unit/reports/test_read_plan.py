"""The loader's read plan (`reports.plan.plan_reads`): which frames are read, by which query, with no database."""

from datetime import date

from reports.frames import SCHEMAS
from reports.plan import FrameWants, Stands, plan_reads

UNTIL = date(2026, 6, 30)
CLOSED = date(2026, 6, 29)  # the last closed business date, before the report's
REPAYMENT = frozenset({"loans", "installments", "allocations", "regions", "banks"})
EVERYTHING_STANDS = Stands(payments=True, penalties=True, due_through=CLOSED, visits=True)


def reads(plan) -> dict[str, str]:
    return dict(plan.reads)


def test_without_running_sums_every_frame_is_read_by_its_own_query_longest_first():
    plan = plan_reads(FrameWants(), Stands(), UNTIL, whole_portfolio=False)
    assert reads(plan) == {name: name for name in [*SCHEMAS, "borrowers"]}
    names = [name for name, _ in plan.reads]
    assert names.index("allocations") < names.index("installments") < names.index("loans")
    assert names.index("loans") + 1 == names.index("borrowers")  # the loans' part right after them
    assert plan.riders == () and plan.rider_columns == () and not plan.standing and not plan.split_loans
    assert "borrower_name" in plan.columns and "borrower_name" not in plan.loan_read


def test_the_whole_portfolio_reads_its_loans_in_parts():
    assert plan_reads(FrameWants(), Stands(), UNTIL, whole_portfolio=True).split_loans
    without_loans = FrameWants(frozenset({"regions"}))
    assert not plan_reads(without_loans, Stands(), UNTIL, whole_portfolio=True).split_loans


def test_loan_columns_without_the_borrowers_leave_them_unread():
    plan = plan_reads(FrameWants(REPAYMENT, loan_columns=frozenset({"bank_code"})), Stands(), UNTIL, False)
    assert plan.columns == ("loan_id", "bank_code") and plan.parts == ()
    assert "borrowers" not in reads(plan)
    named = plan_reads(
        FrameWants(REPAYMENT, loan_columns=frozenset({"borrower_name"})), Stands(), UNTIL, False
    )
    assert named.parts == ("borrowers",) and named.loan_read == ("loan_id", "applicant_id")


def test_due_totals_ride_along_with_the_loans_when_the_last_closed_date_is_not_after_the_report():
    plan = plan_reads(FrameWants(REPAYMENT, due_totals="loan"), EVERYTHING_STANDS, UNTIL, False)
    assert reads(plan) == {"loans": "loans", "borrowers": "borrowers", "regions": "regions", "banks": "banks"}
    assert plan.riders == ("due_totals",)
    assert plan.rider_columns == ("principal_due", "principal_repaid", "on_time_repaid", "installment_count")
    assert plan.due_through == CLOSED and not plan.by_month


def test_due_totals_are_summed_from_every_installment_when_the_last_closed_date_is_later():
    later = Stands(payments=True, due_through=date(2026, 7, 1))
    plan = plan_reads(FrameWants(REPAYMENT, due_totals="loan"), later, UNTIL, False)
    assert reads(plan)["due_totals"] == "due_totals" and plan.riders == ()
    assert "installments" not in reads(plan) and "allocations" not in reads(plan)


def test_due_totals_by_month_are_summed_from_every_installment():
    plan = plan_reads(FrameWants(REPAYMENT, due_totals="loan_month"), EVERYTHING_STANDS, UNTIL, False)
    assert plan.by_month and reads(plan)["due_totals"] == "due_totals" and plan.riders == ()


def test_a_later_payment_reads_the_history_instead_of_the_due_totals():
    later_payment = Stands(payments=False, penalties=True, due_through=CLOSED, visits=True)
    plan = plan_reads(FrameWants(REPAYMENT, due_totals="loan"), later_payment, UNTIL, False)
    assert {"installments", "allocations"} <= reads(plan).keys() and "due_totals" not in reads(plan)
    assert plan.riders == ()


def test_positions_come_from_what_the_loans_keep_and_the_installments_due_since_the_last_closed_date():
    plan = plan_reads(FrameWants(REPAYMENT | {"penalties"}, positions=True), EVERYTHING_STANDS, UNTIL, False)
    assert reads(plan)["standing_installments"] == "standing_since_closed"
    assert plan.riders == ("loan_paid",) and "loan_paid" not in reads(plan)
    assert not {"installments", "allocations", "penalties"} & reads(plan).keys()
    assert plan.standing and plan.kept_through == CLOSED


def test_positions_before_the_last_closed_date_read_every_installments_running_sums():
    plan = plan_reads(FrameWants(positions=True), EVERYTHING_STANDS, date(2026, 6, 1), False)
    assert reads(plan)["standing_installments"] == "standing_installments"
    assert reads(plan)["loan_paid"] == "loan_paid" and plan.riders == ()
    assert plan.standing and plan.kept_through is None


def test_a_later_penalty_reads_the_history_for_the_positions():
    no_penalties = Stands(payments=True, penalties=False, due_through=CLOSED)
    plan = plan_reads(FrameWants(positions=True), no_penalties, UNTIL, False)
    assert {"installments", "allocations", "penalties"} <= reads(plan).keys()
    assert not plan.standing and "standing_installments" not in reads(plan)


def test_positions_and_due_totals_together_read_both_beside_the_loans():
    wants = FrameWants(REPAYMENT | {"penalties"}, due_totals="loan", positions=True)
    plan = plan_reads(wants, EVERYTHING_STANDS, UNTIL, False)
    assert plan.riders == ("loan_paid", "due_totals")
    assert reads(plan)["standing_installments"] == "standing_since_closed"
    assert not {"installments", "allocations", "penalties"} & reads(plan).keys()


def test_the_latest_visits_ride_along_with_the_loans_instead_of_the_visits():
    wants = FrameWants(frozenset({"loans", "visits"}), last_visits=True)
    plan = plan_reads(wants, EVERYTHING_STANDS, UNTIL, False)
    assert plan.riders == ("last_visits",) and "visits" not in reads(plan)
    later_visit = plan_reads(wants, Stands(visits=False), UNTIL, False)
    assert reads(later_visit)["visits"] == "visits" and later_visit.riders == ()


def test_without_the_loans_what_they_keep_is_read_on_its_own():
    wants = FrameWants(frozenset({"visits"}), last_visits=True)
    plan = plan_reads(wants, EVERYTHING_STANDS, UNTIL, False)
    assert reads(plan) == {"last_visits": "kept_last_visits"} and plan.riders == ()
    not_asked = plan_reads(
        FrameWants(frozenset({"regions"}), last_visits=True), EVERYTHING_STANDS, UNTIL, False
    )
    assert reads(not_asked) == {"regions": "regions"}
