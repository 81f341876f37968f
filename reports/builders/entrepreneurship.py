"""Entrepreneurship tracking (创业跟踪, SPEC section 6) as of a date.

Funnel, in distinct women (an application's or loan's lead applicant and all its MEMBERS):
  trained          applicants with a training finished ≤ as_of
  applied          women on an application whose first step took effect ≤ as_of (on paper: an application
                   entered later with its steps dated back counts from their date)
  disbursed        women on a loan disbursed ≤ as_of
  still_operating  women on a disbursed loan whose latest visit ≤ as_of says operating,
                   expanding or struggling (a loan never visited is not counted)
Each stage is counted on its own (a woman may apply without training).

Survival at 12 and 24 months: among loans disbursed at least N months before as_of (mark =
disbursed_on + N months, clamped to month end, ≤ as_of), the latest visit with mark ≤ visited_on
≤ as_of decides: not `closed` → surviving, `closed` → closed; no such visit → unknown, reported
apart and left out of the rate: survival_rate = surviving / known.

Report: rows = funnel: stage, women, count, unit (trainings | applications | loans).
total: trained, applied, disbursed, still_operating (women), loans_disbursed, loans_operating,
jobs_expected, jobs_created (latest counted jobs_now, else expected), loans_with_job_count,
jobs_now_reported and jobs_expected_reported (same loans only: created vs expected where known).
tables["survival"]: months, eligible_loans, surviving, closed, unknown, known, survival_rate.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from reports.builders.asof import disbursed_loans, jobs_created, latest_visits
from reports.builders.common import Report, float_ratio, int_cols
from reports.frames import PortfolioFrames

OPERATING = ("operating", "expanding", "struggling")
SURVIVAL_MONTHS = (12, 24)
RATIOS = {"survival_rate": ("surviving", "known")}


def _women(units: pl.DataFrame, frames: PortfolioFrames) -> pl.Series:
    """Distinct women on the given applications (`application_id`, `applicant_id` = the lead)."""
    members = frames.members.join(units.select("application_id"), on="application_id", how="semi")
    return pl.concat([units.select("applicant_id"), members.select("applicant_id")])["applicant_id"].unique()


def survival(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    loans = disbursed_loans(frames, as_of).select("loan_id", "disbursed_on")
    parts = []
    for months in SURVIVAL_MONTHS:
        eligible = loans.with_columns(
            pl.col("disbursed_on").dt.offset_by(f"{months}mo").alias("mark")
        ).filter(pl.col("mark") <= as_of)
        visits = (
            frames.visits.join(eligible.select("loan_id", "mark"), on="loan_id")
            .filter(pl.col("visited_on").is_between(pl.col("mark"), pl.lit(as_of, dtype=pl.Date)))
            .sort("loan_id", "visited_on")
            .group_by("loan_id", maintain_order=True)
            .agg(pl.col("business_status").last())
        )
        closed = pl.col("business_status") == "closed"
        parts.append(
            visits.select(
                pl.lit(months, dtype=pl.Int64).alias("months"),
                pl.lit(eligible.height, dtype=pl.Int64).alias("eligible_loans"),
                (~closed).sum().alias("surviving"),
                closed.sum().alias("closed"),
            )
        )
    out = pl.concat(parts).with_columns(int_cols("surviving", "closed"))
    out = out.with_columns((pl.col("surviving") + pl.col("closed")).alias("known"))
    return out.with_columns(
        (pl.col("eligible_loans") - pl.col("known")).alias("unknown"),
        float_ratio("surviving", "known").alias("survival_rate"),
    ).select("months", "eligible_loans", "surviving", "closed", "unknown", "known", "survival_rate")


def entrepreneurship(frames: PortfolioFrames, as_of: date) -> Report:
    trainings = frames.trainings.filter(pl.col("finished_on") <= as_of)
    applications = frames.applications.filter(pl.col("applied_on") <= as_of)
    loans = disbursed_loans(frames, as_of)
    operating = loans.join(latest_visits(frames, as_of), on="loan_id").filter(
        pl.col("business_status").is_in(OPERATING)
    )
    funnel = pl.DataFrame(
        {
            "stage": ["trained", "applied", "disbursed", "still_operating"],
            "women": [
                trainings["applicant_id"].n_unique(),
                _women(applications, frames).len(),
                _women(loans, frames).len(),
                _women(operating, frames).len(),
            ],
            "count": [trainings.height, applications.height, loans.height, operating.height],
            "unit": ["trainings", "applications", "loans", "loans"],
        },
        schema={"stage": pl.String, "women": pl.Int64, "count": pl.Int64, "unit": pl.String},
    )
    jobs = jobs_created(frames, as_of).join(loans.select("loan_id"), on="loan_id", how="semi")
    reported = pl.col("has_job_count")
    job_totals = jobs.select(
        pl.col("jobs_expected").sum(),
        pl.col("jobs_created").sum(),
        reported.sum().cast(pl.Int64).alias("loans_with_job_count"),
        pl.col("jobs_created").filter(reported).sum().alias("jobs_now_reported"),
        pl.col("jobs_expected").filter(reported).sum().alias("jobs_expected_reported"),
    ).row(0, named=True)
    women = dict(zip(funnel["stage"], funnel["women"], strict=True))
    total = {**women, "loans_disbursed": loans.height, "loans_operating": operating.height, **job_totals}
    return Report(rows=funnel, total=total, tables={"survival": survival(frames, as_of)}, ratios=RATIOS)
