"""The report input queries: one set-wise SQL text per frame, limited to the report's scope and date, and which
columns of the loans frame come from the borrowers (applicants)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import polars as pl

LOAN_PARTS = {
    "borrowers": pl.Schema({"applicant_id": pl.String, "borrower_name": pl.String, "national_id": pl.String}),
}
PART_KEYS = {"borrowers": "applicant_id"}
PART_COLUMNS = {name: set(schema) - {PART_KEYS[name]} for name, schema in LOAN_PARTS.items()}
FROM_PARTS = set().union(*PART_COLUMNS.values())
# How the columns of the loans frame are selected, where not as `l.<column>`.
_LOAN_SELECT = {
    "loan_id": "l.id::text AS loan_id",
    "application_id": "l.application_id::text",
    "applicant_id": "l.applicant_id::text",
    "product_code": "p.code AS product_code",
    "guarantee_fund_id": "l.guarantee_fund_id::text",
    "annual_rate": "l.annual_rate::float8",
}

SCOPE_COLUMNS = ("county_code", "township_code", "village_code", "bank_code")


@dataclass(frozen=True)
class ReportScope:
    """Which rows a report covers: the caller's scope, optionally narrowed to a region or a bank."""

    county_code: str | None = None
    township_code: str | None = None
    village_code: str | None = None
    bank_code: str | None = None

    @property
    def region_code(self) -> str | None:
        """The narrowest region named (None: the whole deployment)."""
        return self.village_code or self.township_code or self.county_code

    def where(self, alias: str, available: tuple[str, ...], args: list) -> str:
        """SQL conditions on ``alias`` for the scope; appends the values to ``args`` ($n placeholders).

        A scope column the table lacks makes the condition false: finer scopes never see coarser aggregates.
        """
        given = [
            (column, getattr(self, column)) for column in SCOPE_COLUMNS if getattr(self, column) is not None
        ]
        if any(column not in available for column, _ in given):
            return "FALSE"  # before any value is added: a value without its placeholder fails the query
        conditions = ["TRUE"]
        for column, value in given:
            args.append(value)
            conditions.append(f"{alias}.{column} = ${len(args)}")
        return " AND ".join(conditions)


ALL = SCOPE_COLUMNS
REGION_ONLY = ("county_code", "township_code", "village_code")


# The repayment-rate sums of installments grouped by loan (DUE_TOTALS). Summed as integer: PostgreSQL sums
# integers in bigint but bigints in numeric, which took a third of the time. One installment is far below 2³¹ fen
# (21 million yuan; the national cap is 300,000 yuan), and one that were not would fail the cast, not mis-sum.
_DUE_TOTALS_SUMS = """sum(principal::integer) AS principal_due,
               sum(least(principal, paid_principal)::integer) AS principal_repaid,
               sum(least(principal, on_time_principal)::integer) AS on_time_repaid, count(*) AS installment_count"""

# What each loan `l` keeps of its installments due by the last closed business date (LOAN_KEPT's columns) …
KEPT_SELECT = {
    "paid_principal": "l.principal - l.outstanding_principal AS paid_principal",
    "due_principal_unpaid": "l.due_principal - l.due_principal_repaid AS due_principal_unpaid",
    "due_oldest_owed": "l.due_oldest_owed",
}
# … and its repayment-rate sums of those with the installments due since (`w`, `due_since`) added: DUE_TOTALS's.
KEPT_DUE_SELECT = {
    "principal_due": "l.due_principal + COALESCE(w.principal_due, 0) AS principal_due",
    "principal_repaid": "l.due_principal_repaid + COALESCE(w.principal_repaid, 0) AS principal_repaid",
    "on_time_repaid": "l.due_principal_on_time + COALESCE(w.on_time_repaid, 0) AS on_time_repaid",
    "installment_count": "l.due_installments + COALESCE(w.installment_count, 0) AS installment_count",
}

# … and of its latest visit (LAST_VISITS's).
KEPT_VISIT_SELECT = {"last_visit_on": "l.last_visit_on", "jobs_now": "l.last_visit_jobs AS jobs_now"}


def frame_queries(
    scope: ReportScope, until: date, by_month: bool, due_through: date | None, loan_columns: list[str]
) -> dict[str, tuple[str, list]]:
    """Per frame, its SQL text and positional arguments ($n): rows of the scope as of ``until``; ``due_through``,
    the last closed business date, bounds what the loans keep; ``loan_columns``, the loans frame's columns read."""
    queries: dict[str, tuple[str, list]] = {}

    def add(name: str, build) -> None:
        args: list = []
        queries[name] = (build(args), args)

    def until_param(args: list) -> str:
        if until not in args:
            args.append(until)
        return f"${args.index(until) + 1}"

    def since_closed(args: list) -> str:
        args.append(due_through)
        return f"${len(args)}"

    def disbursed_in_scope(args: list) -> str:
        """The condition on loans `l`: disbursed by `until`, in the scope."""
        return f"l.disbursed_on <= {until_param(args)} AND {scope.where('l', ALL, args)}"

    def loans_in_scope(args: list) -> str:
        return f"SELECT l.id FROM loan l WHERE {disbursed_in_scope(args)}"

    def of_loans_in_scope(args: list, alias: str) -> str:
        """For rows dated by `until` (due, paid): a loan owes or pays nothing before its disbursement, so
        over the whole portfolio the loan condition is implied and the join with the loans is left out."""
        if scope == ReportScope():
            return "TRUE"
        return f"{alias}.loan_id IN ({loans_in_scope(args)})"

    region = replace(scope, bank_code=None)

    def due_since(args: list) -> str:
        """The sums of the installments due after the last closed date by `until`, per loan, joined as `w`."""
        since = since_closed(args)
        return f"""
        LEFT JOIN (
            SELECT loan_id, {_DUE_TOTALS_SUMS}
            FROM installment WHERE due_date > {since} AND due_date <= {until_param(args)}
            GROUP BY loan_id) w ON w.loan_id = l.id"""

    selects = _LOAN_SELECT | KEPT_SELECT | KEPT_DUE_SELECT | KEPT_VISIT_SELECT
    add(
        "loans",
        lambda args: (
            f"""
        SELECT {", ".join(selects.get(column, f"l.{column}") for column in loan_columns)}
        FROM loan l {"JOIN loan_product p ON p.id = l.product_id" if "product_code" in loan_columns else ""}
        {due_since(args) if KEPT_DUE_SELECT.keys() & set(loan_columns) else ""}
        WHERE {disbursed_in_scope(args)}"""
        ),
    )

    # The borrowers are read beside the loans, in a stream of their own, and joined by polars (`loan_reads`):
    # joining them in the loans read made it the longest read by far (COPY runs in one server process, without
    # parallel workers) — for a province most of the read, for a 59k-loan county 0.1 s of hashing and projecting
    # while the other reader sat idle. A loan's region is its lead applicant's (her village never changes), so a
    # scope's borrowers are among its region's applicants, taken by their region index; a bank's, among those its
    # loans name.
    def borrowers_in_scope(args: list) -> str:
        conditions = region.where("a", REGION_ONLY, args)
        if scope.bank_code is not None:
            conditions += (
                f" AND a.id IN (SELECT l.applicant_id FROM loan l WHERE {scope.where('l', ALL, args)})"
            )
        return conditions

    add(
        "borrowers",
        lambda args: (
            f"""
        SELECT a.id::text AS applicant_id, a.name AS borrower_name, a.national_id FROM applicant a
        WHERE {borrowers_in_scope(args)}"""
        ),
    )
    # `due_date + 0` keeps the planner off the due-date index: the filter keeps most rows, and reading them
    # through that index is slower than the scan (whole portfolio) or the loan-id index (one county).
    add(
        "installments",
        lambda args: (
            f"""
        SELECT loan_id::text, seq, due_date, principal, interest, subsidy_interest, borrower_interest
        FROM installment i WHERE {of_loans_in_scope(args, "i")} AND due_date + 0 <= {until_param(args)}"""
        ),
    )
    add(
        "allocations",
        lambda args: (
            f"""
        SELECT a.loan_id::text, a.seq, a.paid_on, a.principal, a.interest, a.penalty,
               a.cancelled_interest, a.cancelled_subsidy, v.reversed_on
        FROM repayment_allocation a LEFT JOIN repayment_reversal v ON v.repayment_id = a.repayment_id
        WHERE {of_loans_in_scope(args, "a")} AND a.paid_on <= {until_param(args)}"""
        ),
    )
    add(
        "penalties",
        lambda args: (
            f"""
        SELECT loan_id::text, seq, accrual_date, amount FROM penalty_accrual
        WHERE loan_id IN ({loans_in_scope(args)})"""
        ),
    )
    # The partners only: every builder counts a loan's lead applicant from the loans frame, and reading her again
    # here for every loan was most of this read. Only a partnership has members beside its applicant (the API
    # refuses them on any other application), so the scope's partnership applications lead to them — by their own
    # region index (`ix_application_partnership_county`) and a primary-key probe each, not a pass over the province's
    # member rows (0.4 → 0.08 s for a 62k-loan county of 1M).
    add(
        "members",
        lambda args: (
            f"""
        SELECT m.application_id::text, m.applicant_id::text FROM loan l
        JOIN application x ON x.id = l.application_id AND x.borrower_kind = 'partnership'
             AND {region.where("x", REGION_ONLY, args)}
        JOIN application_member m ON m.application_id = x.id AND m.applicant_id <> x.applicant_id
        WHERE {disbursed_in_scope(args)}"""
        ),
    )
    # A visit is never before its loan's disbursement (the API refuses one), and it carries its loan's scope
    # columns: the visits of the scope's loans by `until` are found without the loans.
    add(
        "follow_ups",
        lambda args: (
            f"""
        SELECT loan_id::text, visited_on, business_status, fund_use_as_agreed, jobs_now, risk_level
        FROM follow_up f WHERE f.visited_on <= {until_param(args)} AND {scope.where("f", ALL, args)}"""
        ),
    )
    add(
        "applicants",
        lambda args: (
            f"""
        SELECT id::text AS applicant_id, name, national_id, birth_date, array_to_string(categories, '|') AS categories,
               county_code, township_code, village_code
        FROM applicant x WHERE {scope.where("x", REGION_ONLY, args)}"""
        ),
    )
    add(
        "applications",
        lambda args: (
            f"""
        SELECT id::text AS application_id, applicant_id::text, status,
               LEAST((created_at AT TIME ZONE 'Asia/Shanghai')::date, village_certified_on, submitted_on, reviewed_on,
                     decided_on, withdrawn_on) AS applied_on,
               county_code, township_code, village_code
        FROM application x WHERE {scope.where("x", ALL, args)}"""
        ),
    )
    add(
        "trainings",
        lambda args: (
            f"""
        SELECT t.applicant_id::text, t.finished_on, t.certificate_no FROM training t
        JOIN applicant x ON x.id = t.applicant_id WHERE {scope.where("x", REGION_ONLY, args)}"""
        ),
    )
    add(
        "funds",
        lambda args: (
            f"""
        SELECT id::text AS fund_id, name, county_code, bank_code, leverage::float8, leverage::float8 AS leverage_limit,
               risk_threshold::float8
        FROM guarantee_fund x WHERE {scope.where("x", ("county_code", "bank_code"), args)}"""
        ),
    )
    add(
        "fund_entries",
        lambda args: (
            f"""
        SELECT e.fund_id::text, e.kind, e.amount, e.occurred_on, e.loan_id::text
        FROM fund_entry e JOIN guarantee_fund x ON x.id = e.fund_id
        WHERE {scope.where("x", ("county_code", "bank_code"), args)}"""
        ),
    )
    add(
        "snapshots",
        lambda args: (
            f"""
        SELECT s.business_date, s.county_code, s.township_code, s.bank_code, p.code AS product_code, s.status,
               s.bucket, s.five_class, s.loan_count, s.outstanding_principal, s.overdue_principal
        FROM portfolio_snapshot s JOIN loan_product p ON p.id = s.product_id
        WHERE {scope.where("s", ("county_code", "township_code", "bank_code"), args)}"""
        ),
    )
    add(
        "targets",
        lambda args: (
            f"""
        SELECT county_code, year, amount FROM lending_target x WHERE {scope.where("x", ("county_code",), args)}"""
        ),
    )
    add(
        "due_totals",
        lambda args: (
            f"""
        SELECT loan_id::text, {"date_trunc('month', due_date)::date" if by_month else "NULL::date"} AS due_month,
               {_DUE_TOTALS_SUMS}
        FROM installment i WHERE {of_loans_in_scope(args, "i")} AND due_date + 0 <= {until_param(args)}
        GROUP BY loan_id, 2"""
        ),
    )

    def kept_due_totals(args: list) -> str:
        return f"""
        SELECT l.id::text AS loan_id, NULL::date AS due_month, {", ".join(KEPT_DUE_SELECT.values())}
        FROM loan l {due_since(args)}
        WHERE {disbursed_in_scope(args)}
          AND (l.due_installments > 0 OR w.loan_id IS NOT NULL)"""

    # The same per-loan sums from those each loan keeps for its installments due by the last closed business date
    # (`due_through`, not after `until`) and those of the few installments due since.
    add("kept_due_totals", kept_due_totals)
    standing_columns = """loan_id::text, seq, due_date, principal, interest, subsidy_interest, borrower_interest,
               paid_principal, paid_interest, paid_penalty, cancelled_interest AS paid_cancelled_interest,
               cancelled_subsidy AS paid_cancelled_subsidy, on_time_principal, penalty_accrued"""
    add(
        "standing_installments",
        lambda args: (
            f"""
        SELECT {standing_columns}
        FROM installment i WHERE {of_loans_in_scope(args, "i")} AND due_date + 0 <= {until_param(args)}"""
        ),
    )
    add(
        "loan_paid",
        lambda args: (
            f"""
        SELECT l.id::text AS loan_id, l.principal - l.outstanding_principal AS paid_principal FROM loan l
        WHERE {disbursed_in_scope(args)}"""
        ),
    )

    # The positions from what each loan keeps of its installments due by the last closed date (`due_through`, not
    # after `until`) and the installments due from that date on (a due-date index range).
    add(
        "standing_since_closed",
        lambda args: (
            f"""
        SELECT {standing_columns}
        FROM installment i
        WHERE due_date >= {since_closed(args)} AND due_date <= {until_param(args)} AND {of_loans_in_scope(args, "i")}"""
        ),
    )
    add(
        "loan_kept",
        lambda args: (
            f"""
        SELECT l.id::text AS loan_id, {", ".join(KEPT_SELECT.values())}
        FROM loan l WHERE {disbursed_in_scope(args)}"""
        ),
    )
    add(
        "kept_last_visits",
        lambda args: (
            f"""
        SELECT l.id::text AS loan_id, {", ".join(KEPT_VISIT_SELECT.values())}
        FROM loan l WHERE {disbursed_in_scope(args)} AND l.last_visit_on IS NOT NULL"""
        ),
    )
    add("regions", lambda args: "SELECT code, name, level FROM region")
    add("banks", lambda args: "SELECT code AS bank_code, name AS bank_name FROM bank")
    return queries


# The identity of the loans a report lists (`frames.IDENTITY`), read for those loans alone
# after the build: loans by primary key, their lead applicants by theirs.
IDENTITY_SELECT = """
SELECT l.id::text AS loan_id, l.contract_no, a.name AS borrower_name, a.national_id, l.bank_code, l.township_code
FROM loan l JOIN applicant a ON a.id = l.applicant_id
WHERE l.id = ANY($1::text[]::uuid[])"""
