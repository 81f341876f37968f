"""The portfolio as it stood on a date, rebuilt from dates in the data (never today's `status`).

- `effective_allocations`: allocation lines paid on or before `as_of` and not reversed by then
  (reversed_on null or after `as_of`): a reversed repayment counts before its reversal, not after.
- `installment_positions`: every installment of loans disbursed by `as_of` with what had been
  paid on it by then, penalty accrued by then, the borrower-owed remainder and unpaid principal.
- `loan_positions`: per live loan (disbursed by `as_of`, not written off by then, outstanding
  principal > 0): outstanding, overdue principal, DPD, bucket, five-class, masked ID. This is the
  per-loan basis of the PAR report, reused by the fund, beneficiary and county reports.
- `latest_visits` / `last_visits` / `jobs_created`: the post-loan visits as known on a date.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from reports.builders.common import days_between, lit_date
from reports.frames import LAST_VISITS, PortfolioFrames, Standing

BUCKETS = ("current", "1-30", "31-90", "91-180", "181+")
FIVE_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
PAID_COLUMNS = (
    "paid_principal",
    "paid_interest",
    "paid_penalty",
    "paid_cancelled_interest",
    "paid_cancelled_subsidy",
)


def effective_allocations(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """Allocation lines that stood on `as_of`."""
    a = frames.allocations
    return a.filter(
        (pl.col("paid_on") <= as_of) & (pl.col("reversed_on").is_null() | (pl.col("reversed_on") > as_of))
    )


def disbursed_loans(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    return frames.loans.filter(pl.col("disbursed_on") <= as_of)


def installment_positions(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """Installments (of loans disbursed ≤ as_of) with paid amounts, penalty and what is still owed.

    Adds: paid_principal, paid_interest, paid_penalty, paid_cancelled_interest,
    paid_cancelled_subsidy, on_time_principal (allocated with paid_on ≤ due_date),
    penalty_accrued (accrual_date ≤ as_of), repaid_principal = min(principal, paid_principal),
    on_time_repaid = min(principal, on_time_principal), unpaid_principal,
    borrower_owed = principal + borrower_interest + penalty_accrued − paid principal, interest,
    penalty and cancelled interest.
    """
    return frames.derived(("installment_positions", as_of), lambda: _installment_positions(frames, as_of))


def standing_for(frames: PortfolioFrames, as_of: date) -> Standing | None:
    """The running sums the frames hold instead of the repayment history, if any; they answer for their date only
    (the history they replace was not read, so another date cannot be rebuilt from these frames)."""
    standing = frames.standing
    if standing is not None and standing.as_of != as_of:
        raise ValueError(f"these frames hold the positions on {standing.as_of}, not the history for {as_of}")
    return standing


def _installment_positions(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    disbursed = disbursed_loans(frames, as_of).select("loan_id")
    standing = standing_for(frames, as_of)
    if standing is not None and standing.kept_through is not None:
        raise ValueError(
            f"these frames hold the installments due from {standing.kept_through} only, with what each loan keeps"
            " of the earlier ones: its position, not every installment's"
        )
    if standing is not None:
        out = standing.installments.join(disbursed, on="loan_id", how="semi")
    else:
        out = _sums_from_history(frames.installments.join(disbursed, on="loan_id", how="semi"), frames, as_of)
    return _with_owed(out)


def _with_owed(out: pl.DataFrame) -> pl.DataFrame:
    return out.with_columns(
        pl.min_horizontal("principal", "paid_principal").alias("repaid_principal"),
        pl.min_horizontal("principal", "on_time_principal").alias("on_time_repaid"),
        pl.max_horizontal(pl.col("principal") - pl.col("paid_principal"), pl.lit(0)).alias(
            "unpaid_principal"
        ),
        (
            pl.col("principal")
            + pl.col("borrower_interest")
            + pl.col("penalty_accrued")
            - pl.col("paid_principal")
            - pl.col("paid_interest")
            - pl.col("paid_penalty")
            - pl.col("paid_cancelled_interest")
        ).alias("borrower_owed"),
    )


def _sums_from_history(inst: pl.DataFrame, frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """`inst` with what its allocation lines and penalty ledger add up to on `as_of` (STANDING_INSTALLMENTS)."""
    lines = effective_allocations(frames, as_of).join(
        inst.select("loan_id", "seq", "due_date"), on=["loan_id", "seq"], how="inner"
    )
    paid = lines.group_by("loan_id", "seq").agg(
        pl.col("principal").sum().alias("paid_principal"),
        pl.col("interest").sum().alias("paid_interest"),
        pl.col("penalty").sum().alias("paid_penalty"),
        pl.col("cancelled_interest").sum().alias("paid_cancelled_interest"),
        pl.col("cancelled_subsidy").sum().alias("paid_cancelled_subsidy"),
        pl.col("principal").filter(pl.col("paid_on") <= pl.col("due_date")).sum().alias("on_time_principal"),
    )
    penalty = (
        frames.penalties.filter(pl.col("accrual_date") <= as_of)
        .group_by("loan_id", "seq")
        .agg(pl.col("amount").sum().alias("penalty_accrued"))
    )
    filled = [*PAID_COLUMNS, "on_time_principal", "penalty_accrued"]
    return (
        inst.join(paid, on=["loan_id", "seq"], how="left")
        .join(penalty, on=["loan_id", "seq"], how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in filled)
    )


def bucket_of(dpd: pl.Expr) -> pl.Expr:
    return (
        pl.when(dpd <= 0)
        .then(pl.lit("current"))
        .when(dpd <= 30)
        .then(pl.lit("1-30"))
        .when(dpd <= 90)
        .then(pl.lit("31-90"))
        .when(dpd <= 180)
        .then(pl.lit("91-180"))
        .otherwise(pl.lit("181+"))
    )


def five_class_of(dpd: pl.Expr) -> pl.Expr:
    return (
        pl.when(dpd <= 0)
        .then(pl.lit("normal"))
        .when(dpd <= 90)
        .then(pl.lit("special_mention"))
        .when(dpd <= 270)
        .then(pl.lit("substandard"))
        .when(dpd <= 360)
        .then(pl.lit("doubtful"))
        .otherwise(pl.lit("loss"))
    )


def loan_positions(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """Per live loan on `as_of` (disbursed ≤ as_of, not written off by then, outstanding > 0).

    Columns: every LOANS column, plus paid_principal (all principal
    allocations standing on as_of, prepayments included), outstanding_principal,
    overdue_principal (unpaid principal of installments due < as_of), oldest_unpaid_due, dpd,
    bucket, five_class, compensated (compensated_on ≤ as_of).
    """
    return frames.derived(("loan_positions", as_of), lambda: _loan_positions(frames, as_of))


def _loan_positions(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    standing = standing_for(frames, as_of)
    if standing is not None and standing.kept_through is not None:
        per_loan = _kept_positions(standing, as_of)
    else:
        past = pl.col("due_date") < as_of
        per_loan = (
            installment_positions(frames, as_of)
            .group_by("loan_id")
            .agg(
                pl.col("unpaid_principal").filter(past).sum().alias("overdue_principal"),
                pl.col("due_date")
                .filter(past & (pl.col("borrower_owed") > 0))
                .min()
                .alias("oldest_unpaid_due"),
            )
        )
    repaid = (
        standing.loan_paid.select("loan_id", "paid_principal")
        if standing is not None
        else effective_allocations(frames, as_of)
        .group_by("loan_id")
        .agg(pl.col("principal").sum().alias("paid_principal"))
    )
    loans = disbursed_loans(frames, as_of).filter(
        pl.col("written_off_on").is_null() | (pl.col("written_off_on") > as_of)
    )
    dpd = pl.col("dpd")
    return (
        loans.join(repaid, on="loan_id", how="left")
        .join(per_loan, on="loan_id", how="left")
        .with_columns(
            pl.col("paid_principal").fill_null(0).cast(pl.Int64),
            pl.col("overdue_principal").fill_null(0).cast(pl.Int64),
        )
        .with_columns(
            pl.max_horizontal(pl.col("principal") - pl.col("paid_principal"), pl.lit(0)).alias(
                "outstanding_principal"
            ),
            days_between(lit_date(as_of), pl.col("oldest_unpaid_due")).fill_null(0).alias("dpd"),
            (pl.col("compensated_on").is_not_null() & (pl.col("compensated_on") <= as_of)).alias(
                "compensated"
            ),
        )
        .filter(pl.col("outstanding_principal") > 0)
        .with_columns(bucket_of(dpd).alias("bucket"), five_class_of(dpd).alias("five_class"))
    )


def _kept_positions(standing: Standing, as_of: date) -> pl.DataFrame:
    """Per loan: overdue_principal and oldest_unpaid_due on `as_of` from the figures it keeps of its installments due
    by `kept_through` (≤ as_of) and the installments due from that date on — those due on it are in both, and count
    as overdue only when `as_of` is later."""
    through, due = standing.kept_through, pl.col("due_date")
    since = (
        _with_owed(standing.installments)
        .group_by("loan_id")
        .agg(
            (
                pl.col("unpaid_principal").filter(due < as_of).sum()
                - pl.col("unpaid_principal").filter(due <= through).sum()
            ).alias("overdue_since"),
            due.filter((due > through) & (due < as_of) & (pl.col("borrower_owed") > 0))
            .min()
            .alias("owed_since"),
        )
    )
    kept_oldest = pl.col("due_oldest_owed")
    return standing.loan_paid.join(since, on="loan_id", how="left").select(
        "loan_id",
        (pl.col("due_principal_unpaid") + pl.col("overdue_since").fill_null(0)).alias("overdue_principal"),
        pl.when(kept_oldest < as_of)
        .then(kept_oldest)
        .otherwise(pl.col("owed_since"))
        .alias("oldest_unpaid_due"),
    )


def latest_visits(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """Per loan: last_visit_on and business_status of its latest visit on or before `as_of`."""
    latest = pl.col("visited_on").arg_max()
    return (
        frames.visits.filter(pl.col("visited_on") <= as_of)
        .group_by("loan_id")
        .agg(pl.col("visited_on").max().alias("last_visit_on"), pl.col("business_status").get(latest))
    )


def last_visits(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """LAST_VISITS on `as_of`: per loan visited by then, the date of its latest visit and the jobs counted at the
    latest visit that counted them (of two on one day, the larger count) — as the loans keep them when the loader
    could read that instead of the visits, else from the visits; the two are tested equal."""
    given = frames.last_visits
    if given is not None:
        if given.as_of != as_of:
            raise ValueError(
                f"these frames hold the latest visits on {given.as_of}, not the visits for {as_of}"
            )
        return given.frame
    return frames.derived(("last_visits", as_of), lambda: _last_visits(frames, as_of))


def _last_visits(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    counted = pl.col("jobs_now").is_not_null()
    last_counted = pl.col("visited_on").filter(counted).max()
    return (
        frames.visits.filter(pl.col("visited_on") <= as_of)
        .group_by("loan_id")
        .agg(
            pl.col("visited_on").max().alias("last_visit_on"),
            pl.col("jobs_now").filter(counted & (pl.col("visited_on") == last_counted)).max(),
        )
        .select(LAST_VISITS.names())
    )


def jobs_created(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    """Per loan (all LOANS rows): jobs_created = jobs_now of the latest visit ≤ as_of that counted
    jobs (`last_visits`), else the project's jobs_expected (null → 0); plus jobs_expected and has_job_count."""
    return (
        frames.loans.select("loan_id", "jobs_expected")
        .join(last_visits(frames, as_of).select("loan_id", "jobs_now"), on="loan_id", how="left")
        .select(
            "loan_id",
            pl.col("jobs_expected").fill_null(0).cast(pl.Int64),
            pl.col("jobs_now").is_not_null().alias("has_job_count"),
            pl.coalesce("jobs_now", "jobs_expected", pl.lit(0)).cast(pl.Int64).alias("jobs_created"),
        )
    )


def age_at(birth: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Completed years of age on a date (birthday-aware)."""
    before_birthday = (on.dt.month().cast(pl.Int32) * 100 + on.dt.day().cast(pl.Int32)) < (
        birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32)
    )
    return (
        on.dt.year().cast(pl.Int32) - birth.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)
    ).cast(pl.Int64)
