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


@dataclass(frozen=True)
class FrameQueries:
    """The SQL of each frame (a method named after it) for rows of ``scope`` as of ``until``: text with $n
    placeholders, the values appended to the list given. ``timezone``: the deployment's, whose dates the timestamps
    fall on (an application's created_at). ``due_through``, the last closed business date, bounds what
    the loans keep; ``loan_columns``, the loans frame's columns read; ``by_month``, the due totals per due month."""

    scope: ReportScope
    until: date
    timezone: str
    due_through: date | None = None
    loan_columns: tuple[str, ...] = ()
    by_month: bool = False

    def query(self, frame: str) -> tuple[str, list]:
        """The SQL text and positional arguments of ``frame``'s read."""
        if frame not in FRAMES:
            raise KeyError(frame)
        args: list = []
        return getattr(self, frame)(args), args

    def _until(self, args: list) -> str:
        if self.until not in args:
            args.append(self.until)
        return f"${args.index(self.until) + 1}"

    def _timezone(self, args: list) -> str:
        args.append(self.timezone)
        return f"${len(args)}::text"

    def _since_closed(self, args: list) -> str:
        args.append(self.due_through)
        return f"${len(args)}"

    def _disbursed_in_scope(self, args: list) -> str:
        """The condition on loans `l`: disbursed by `until`, in the scope."""
        return f"l.disbursed_on <= {self._until(args)} AND {self.scope.where('l', ALL, args)}"

    def _loans_in_scope(self, args: list) -> str:
        return f"SELECT l.id FROM loan l WHERE {self._disbursed_in_scope(args)}"

    def _of_loans_in_scope(self, args: list, alias: str) -> str:
        """For rows dated by `until` (due, paid): a loan owes or pays nothing before its disbursement, so
        over the whole portfolio the loan condition is implied and the join with the loans is left out."""
        if self.scope == ReportScope():
            return "TRUE"
        return f"{alias}.loan_id IN ({self._loans_in_scope(args)})"

    @property
    def _region(self) -> ReportScope:
        return replace(self.scope, bank_code=None)

    def _due_since(self, args: list) -> str:
        """The sums of the installments due after the last closed date by `until`, per loan, joined as `w`."""
        since = self._since_closed(args)
        return f"""
        LEFT JOIN (
            SELECT loan_id, {_DUE_TOTALS_SUMS}
            FROM installment WHERE due_date > {since} AND due_date <= {self._until(args)}
            GROUP BY loan_id) w ON w.loan_id = l.id"""

    def loans(self, args: list) -> str:
        selects = _LOAN_SELECT | KEPT_SELECT | KEPT_DUE_SELECT | KEPT_VISIT_SELECT
        columns = self.loan_columns
        return f"""
        SELECT {", ".join(selects.get(column, f"l.{column}") for column in columns)}
        FROM loan l {"JOIN loan_product p ON p.id = l.product_id" if "product_code" in columns else ""}
        {self._due_since(args) if KEPT_DUE_SELECT.keys() & set(columns) else ""}
        WHERE {self._disbursed_in_scope(args)}"""

    # The borrowers are read beside the loans, in a stream of their own, and joined by polars (`loan_reads`):
    # joining them in the loans read made it the longest read by far (COPY runs in one server process, without
    # parallel workers) — for a province most of the read, for a 59k-loan county 0.1 s of hashing and projecting
    # while the other reader sat idle. A loan's region is its lead applicant's (her village never changes), so a
    # scope's borrowers are among its region's applicants, taken by their region index; a bank's, among those its
    # loans name.
    def borrowers(self, args: list) -> str:
        conditions = self._region.where("a", REGION_ONLY, args)
        if self.scope.bank_code is not None:
            conditions += (
                f" AND a.id IN (SELECT l.applicant_id FROM loan l WHERE {self.scope.where('l', ALL, args)})"
            )
        return f"""
        SELECT a.id::text AS applicant_id, a.name AS borrower_name, a.national_id FROM applicant a
        WHERE {conditions}"""

    # `due_date + 0` keeps the planner off the due-date index: the filter keeps most rows, and reading them
    # through that index is slower than the scan (whole portfolio) or the loan-id index (one county).
    def installments(self, args: list) -> str:
        return f"""
        SELECT loan_id::text, seq, due_date, principal, interest, subsidy_interest, borrower_interest
        FROM installment i WHERE {self._of_loans_in_scope(args, "i")} AND due_date + 0 <= {self._until(args)}"""

    def allocations(self, args: list) -> str:
        return f"""
        SELECT a.loan_id::text, a.seq, a.paid_on, a.principal, a.interest, a.penalty,
               a.cancelled_interest, a.cancelled_subsidy, v.reversed_on
        FROM repayment_allocation a LEFT JOIN repayment_reversal v ON v.repayment_id = a.repayment_id
        WHERE {self._of_loans_in_scope(args, "a")} AND a.paid_on <= {self._until(args)}"""

    def penalties(self, args: list) -> str:
        return f"""
        SELECT loan_id::text, seq, accrual_date, amount FROM penalty_accrual
        WHERE loan_id IN ({self._loans_in_scope(args)})"""

    # The partners only: every builder counts a loan's lead applicant from the loans frame, and reading her again
    # here for every loan was most of this read. Only a partnership has members beside its applicant (the API
    # refuses them on any other application), so the scope's partnership applications lead to them — by their own
    # region index (`ix_application_partnership_county`) and a primary-key probe each, not a pass over the province's
    # member rows (0.4 → 0.08 s for a 62k-loan county of 1M).
    def members(self, args: list) -> str:
        return f"""
        SELECT m.application_id::text, m.applicant_id::text FROM loan l
        JOIN application x ON x.id = l.application_id AND x.borrower_kind = 'partnership'
             AND {self._region.where("x", REGION_ONLY, args)}
        JOIN application_member m ON m.application_id = x.id AND m.applicant_id <> x.applicant_id
        WHERE {self._disbursed_in_scope(args)}"""

    # A visit is never before its loan's disbursement (the API refuses one), and it carries its loan's scope
    # columns: the visits of the scope's loans by `until` are found without the loans.
    def visits(self, args: list) -> str:
        return f"""
        SELECT loan_id::text, visited_on, business_status, fund_use_as_agreed, jobs_now, risk_level
        FROM follow_up f WHERE f.visited_on <= {self._until(args)} AND {self.scope.where("f", ALL, args)}"""

    def applicants(self, args: list) -> str:
        return f"""
        SELECT id::text AS applicant_id, name, national_id, birth_date, array_to_string(categories, '|') AS categories,
               county_code, township_code, village_code
        FROM applicant x WHERE {self.scope.where("x", REGION_ONLY, args)}"""

    def applications(self, args: list) -> str:
        return f"""
        SELECT id::text AS application_id, applicant_id::text, status,
               LEAST((created_at AT TIME ZONE {self._timezone(args)})::date, village_certified_on, submitted_on,
                     reviewed_on, decided_on, withdrawn_on) AS applied_on,
               county_code, township_code, village_code
        FROM application x WHERE {self.scope.where("x", ALL, args)}"""

    def trainings(self, args: list) -> str:
        return f"""
        SELECT t.applicant_id::text, t.finished_on, t.certificate_no FROM training t
        JOIN applicant x ON x.id = t.applicant_id WHERE {self.scope.where("x", REGION_ONLY, args)}"""

    def funds(self, args: list) -> str:
        return f"""
        SELECT id::text AS fund_id, name, county_code, bank_code, leverage::float8, leverage::float8 AS leverage_limit,
               risk_threshold::float8
        FROM guarantee_fund x WHERE {self.scope.where("x", ("county_code", "bank_code"), args)}"""

    def fund_entries(self, args: list) -> str:
        return f"""
        SELECT e.fund_id::text, e.kind, e.amount, e.occurred_on, e.loan_id::text
        FROM fund_entry e JOIN guarantee_fund x ON x.id = e.fund_id
        WHERE {self.scope.where("x", ("county_code", "bank_code"), args)}"""

    def snapshots(self, args: list) -> str:
        return f"""
        SELECT s.business_date, s.county_code, s.township_code, s.bank_code, p.code AS product_code, s.status,
               s.bucket, s.five_class, s.loan_count, s.outstanding_principal, s.overdue_principal
        FROM portfolio_snapshot s JOIN loan_product p ON p.id = s.product_id
        WHERE {self.scope.where("s", ("county_code", "township_code", "bank_code"), args)}"""

    def targets(self, args: list) -> str:
        return f"""
        SELECT county_code, year, amount FROM lending_target x WHERE {self.scope.where("x", ("county_code",), args)}"""

    def due_totals(self, args: list) -> str:
        return f"""
        SELECT loan_id::text, {"date_trunc('month', due_date)::date" if self.by_month else "NULL::date"} AS due_month,
               {_DUE_TOTALS_SUMS}
        FROM installment i WHERE {self._of_loans_in_scope(args, "i")} AND due_date + 0 <= {self._until(args)}
        GROUP BY loan_id, 2"""

    # The same per-loan sums from those each loan keeps for its installments due by the last closed business date
    # (`due_through`, not after `until`) and those of the few installments due since.
    def kept_due_totals(self, args: list) -> str:
        return f"""
        SELECT l.id::text AS loan_id, NULL::date AS due_month, {", ".join(KEPT_DUE_SELECT.values())}
        FROM loan l {self._due_since(args)}
        WHERE {self._disbursed_in_scope(args)}
          AND (l.due_installments > 0 OR w.loan_id IS NOT NULL)"""

    def standing_installments(self, args: list) -> str:
        return f"""
        SELECT {_STANDING_COLUMNS}
        FROM installment i WHERE {self._of_loans_in_scope(args, "i")} AND due_date + 0 <= {self._until(args)}"""

    def loan_paid(self, args: list) -> str:
        return f"""
        SELECT l.id::text AS loan_id, l.principal - l.outstanding_principal AS paid_principal FROM loan l
        WHERE {self._disbursed_in_scope(args)}"""

    # The positions from what each loan keeps of its installments due by the last closed date (`due_through`, not
    # after `until`) and the installments due from that date on (a due-date index range).
    def standing_since_closed(self, args: list) -> str:
        since, until = self._since_closed(args), self._until(args)
        return f"""
        SELECT {_STANDING_COLUMNS}
        FROM installment i
        WHERE due_date >= {since} AND due_date <= {until} AND {self._of_loans_in_scope(args, "i")}"""

    def loan_kept(self, args: list) -> str:
        return f"""
        SELECT l.id::text AS loan_id, {", ".join(KEPT_SELECT.values())}
        FROM loan l WHERE {self._disbursed_in_scope(args)}"""

    def kept_last_visits(self, args: list) -> str:
        return f"""
        SELECT l.id::text AS loan_id, {", ".join(KEPT_VISIT_SELECT.values())}
        FROM loan l WHERE {self._disbursed_in_scope(args)} AND l.last_visit_on IS NOT NULL"""

    def regions(self, args: list) -> str:
        return "SELECT code, name, level FROM region"

    def banks(self, args: list) -> str:
        return "SELECT code AS bank_code, name AS bank_name FROM bank"


_STANDING_COLUMNS = """loan_id::text, seq, due_date, principal, interest, subsidy_interest, borrower_interest,
               paid_principal, paid_interest, paid_penalty, cancelled_interest AS paid_cancelled_interest,
               cancelled_subsidy AS paid_cancelled_subsidy, on_time_principal, penalty_accrued"""
# The frames (and what the loans keep, read under the name of what it stands for) each read by a query.
FRAMES = frozenset(
    name for name, member in vars(FrameQueries).items() if callable(member) and not name.startswith("_")
) - {"query"}


# The identity of the loans a report lists (`frames.IDENTITY`), read for those loans alone
# after the build: loans by primary key, their lead applicants by theirs.
IDENTITY_SELECT = """
SELECT l.id::text AS loan_id, l.contract_no, a.name AS borrower_name, a.national_id, l.bank_code, l.township_code
FROM loan l JOIN applicant a ON a.id = l.applicant_id
WHERE l.id = ANY($1::text[]::uuid[])"""
