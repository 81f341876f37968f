"""County risk report (县妇联风险报告, SPEC section 6): one county, one date, one page.

`county_risk(frames, as_of, county_code) -> CountyRiskReport`, built from the other builders on
the frames restricted to the county (`restrict_to_county`):
  headline        dict — loans_disbursed and cumulative_amount (all loans to as_of), live_loans,
                  outstanding_principal, principal_due, principal_repaid, on_time_repaid,
                  repayment_rate, on_time_rate, par30_principal, par30, overdue_principal,
                  arrears_rate, women_supported (cumulative), jobs_created, jobs_expected,
                  flags (count); ratios exact via RATIOS
  townships/banks township|bank, <key>_name, principal_due, principal_repaid, on_time_repaid,
                  repayment_rate, on_time_rate, loan_count (live), outstanding_principal,
                  par30_principal, par30, overdue_principal, arrears_rate
  overdue         PAR per-loan list with dpd > 0 (masked IDs), DPD descending
  maturities      live loans with maturity_date in (as_of, as_of + 90]: identity, maturity_date,
                  days_to_maturity, window (30/60/90, the smallest that holds it),
                  outstanding_principal; maturity_summary: window, loan_count,
                  outstanding_principal (cumulative: within 30, 60, 90 days)
  no_recent_visit live loans disbursed more than 90 days before as_of whose latest visit ≤ as_of
                  is more than 90 days old or missing: identity, disbursed_on, last_visit_on,
                  days_since_visit (null when never visited), outstanding_principal
  par_trend       the 12 month-ends ≤ as_of from SNAPSHOTS: month_end, has_snapshot, loan_count,
                  outstanding_principal, at_risk_principal (buckets other than `current`, i.e.
                  PAR1 by the snapshot's bucket = DPD ≥ 1), overdue_principal, par (Float64)
  lending         `lending_target` rows; lending_total its total
  funds           `guarantee_fund_status` rows of the county's funds
  flags           code, subject, text_zh, text_en — township below 100 % repayment,
                  fund leverage above its limit, fund compensation rate above its threshold
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import polars as pl

from reports.builders.asof import last_visits, loan_positions
from reports.builders.beneficiaries import beneficiary_total
from reports.builders.common import (
    days_between,
    float_ratio,
    jsonable,
    lit_date,
    percent,
    ratio,
    records_json,
    records_of,
    to_decimal,
)
from reports.builders.funds import guarantee_fund_status
from reports.builders.grouping import IDENTITY_COLUMNS, loan_list
from reports.builders.lending_target import lending_target
from reports.builders.par import par_loan_list, par_summary
from reports.builders.repayment import repayment_summary
from reports.frames import PortfolioFrames

RATIOS = {
    "repayment_rate": ("principal_repaid", "principal_due"),
    "on_time_rate": ("on_time_repaid", "principal_due"),
    "par30": ("par30_principal", "outstanding_principal"),
    "arrears_rate": ("overdue_principal", "outstanding_principal"),
    "par": ("at_risk_principal", "outstanding_principal"),
}
WINDOWS = (30, 60, 90)
BEGINNING = date(1900, 1, 1)  # "since the start": cumulative beneficiaries
NO_VISIT_DAYS = 90
CLOSED_STATUSES = ("settled", "recovered", "written_off")
# The columns of the loans frame the page reads (its lists' identity, its figures, its funds' and groups' keys).
LOAN_COLUMNS = IDENTITY_COLUMNS | {
    "application_id",
    "applicant_id",
    "guarantee_fund_id",
    "county_code",
    "jobs_expected",
    "disbursed_on",
    "maturity_date",
    "principal",
    "status",
    "compensated_on",
    "compensated_amount",
    "written_off_on",
}
FLAG_COLUMNS = {"code": pl.String, "subject": pl.String, "text_zh": pl.String, "text_en": pl.String}


# The report's tables, in the order a reader meets them (JSON keys, workbook sheets).
COUNTY_RISK_TABLES: tuple[str, ...] = (
    "townships",
    "banks",
    "overdue",
    "maturities",
    "maturity_summary",
    "no_recent_visit",
    "par_trend",
    "lending",
    "funds",
    "flags",
)


@dataclass(frozen=True, eq=False)
class CountyRiskReport:
    county_code: str
    as_of: date
    headline: dict[str, Any]
    townships: pl.DataFrame
    banks: pl.DataFrame
    overdue: pl.DataFrame
    maturities: pl.DataFrame
    maturity_summary: pl.DataFrame
    no_recent_visit: pl.DataFrame
    par_trend: pl.DataFrame
    lending: pl.DataFrame
    lending_total: dict[str, Any]
    funds: pl.DataFrame
    flags: pl.DataFrame
    ratios: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(RATIOS))

    def headline_record(self) -> dict[str, Any]:
        """The headline as JSON-ready values (money "50000.00", exact ratios)."""
        return jsonable(self.headline, self.ratios)

    def records(self, table: str) -> list[dict[str, Any]]:
        """One of the frames (e.g. "townships", "overdue") as JSON-ready dicts."""
        return records_of(getattr(self, table), self.ratios)

    def records_json(self, table: str) -> bytes:
        """`records` as a JSON array."""
        return records_json(getattr(self, table), self.ratios)


def restrict_to_county(frames: PortfolioFrames, county_code: str) -> PortfolioFrames:
    """The frames of one county: its loans (and their installments, allocations, penalties, visits, their
    applications' members), applications, funds (and entries), snapshots and targets; ``frames`` themselves when
    they hold that county alone (the frames agree, so their other rows are the county's too)."""
    in_county = pl.col("county_code") == county_code
    with_county = (frames.loans, frames.applications, frames.funds, frames.snapshots, frames.targets)
    if all(frame["county_code"].eq(county_code).fill_null(False).all() for frame in with_county):
        return frames
    loans = frames.loans.filter(in_county)
    applications = frames.applications.filter(in_county)
    funds = frames.funds.filter(in_county)

    def of_loans(df: pl.DataFrame) -> pl.DataFrame:
        return df.join(loans.select("loan_id"), on="loan_id", how="semi")

    # the running sums read instead of the history go with the county too: its frames hold no history to rebuild
    totals, standing, visited = frames.due_totals, frames.standing, frames.last_visits

    return PortfolioFrames(
        loans=loans,
        installments=of_loans(frames.installments),
        allocations=of_loans(frames.allocations),
        penalties=of_loans(frames.penalties),
        applicants=frames.applicants,
        members=frames.members.join(loans.select("application_id"), on="application_id", how="semi"),
        applications=applications,
        trainings=frames.trainings,
        visits=of_loans(frames.visits),
        funds=funds,
        fund_entries=frames.fund_entries.join(funds.select("fund_id"), on="fund_id", how="semi"),
        snapshots=frames.snapshots.filter(in_county),
        targets=frames.targets.filter(in_county),
        regions=frames.regions,
        banks=frames.banks,
        due_totals=None if totals is None else replace(totals, frame=of_loans(totals.frame)),
        standing=None
        if standing is None
        else replace(
            standing, installments=of_loans(standing.installments), loan_paid=of_loans(standing.loan_paid)
        ),
        last_visits=None if visited is None else replace(visited, frame=of_loans(visited.frame)),
    )


def _side_by_side(frames: PortfolioFrames, as_of: date, key: str) -> pl.DataFrame:
    """Repayment-rate and PAR rows for one key, outer-joined (a group may have only one side)."""
    repay, _ = repayment_summary(frames, as_of, [key])
    par, _ = par_summary(frames, as_of, [key])
    left = repay.select(key, f"{key}_name", "principal_due", "principal_repaid", "on_time_repaid")
    right = par.select(key, "loan_count", "outstanding_principal", "par30_principal", "overdue_principal")
    out = left.join(right, on=key, how="full", coalesce=True, nulls_equal=True)
    names = par.select(key, pl.col(f"{key}_name").alias("_n"))
    out = out.join(names, on=key, how="left", nulls_equal=True)
    return (
        out.with_columns(pl.coalesce(f"{key}_name", "_n").alias(f"{key}_name"))
        .drop("_n")
        .with_columns(pl.exclude(key, f"{key}_name").fill_null(0))
        .with_columns(*(float_ratio(*RATIOS[r]).alias(r) for r in ("repayment_rate", "on_time_rate")))
        .with_columns(*(float_ratio(*RATIOS[r]).alias(r) for r in ("par30", "arrears_rate")))
        .sort(key, nulls_last=True)
    )


def _maturities(positions: pl.DataFrame, frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    days = days_between(pl.col("maturity_date"), lit_date(as_of))
    window = pl.when(days <= 30).then(30).when(days <= 60).then(60).otherwise(90).cast(pl.Int64)
    due = positions.filter((days > 0) & (days <= max(WINDOWS))).with_columns(
        days.alias("days_to_maturity"), window.alias("window")
    )
    cols = ["maturity_date", "days_to_maturity", "window", "outstanding_principal"]
    return loan_list(due, frames, cols).sort("maturity_date", "contract_no")


def _no_recent_visit(positions: pl.DataFrame, frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    since = days_between(lit_date(as_of), pl.col("last_visit_on")).alias("days_since_visit")
    stale = (
        positions.filter(days_between(lit_date(as_of), pl.col("disbursed_on")) > NO_VISIT_DAYS)
        .join(last_visits(frames, as_of).select("loan_id", "last_visit_on"), on="loan_id", how="left")
        .with_columns(since)
        .filter(pl.col("days_since_visit").is_null() | (pl.col("days_since_visit") > NO_VISIT_DAYS))
    )
    cols = ["disbursed_on", "last_visit_on", "days_since_visit", "outstanding_principal"]
    return loan_list(stale, frames, cols).sort(
        "days_since_visit", "contract_no", descending=[True, False], nulls_last=False
    )


def _par_trend(frames: PortfolioFrames, as_of: date) -> pl.DataFrame:
    last = as_of if (as_of + timedelta(days=1)).day == 1 else as_of.replace(day=1) - timedelta(days=1)
    first = pl.Series([last.replace(day=1)]).dt.offset_by("-11mo").item()
    ends = pl.DataFrame({"month_end": pl.date_range(first, last, "1mo", eager=True).dt.month_end()})
    live = ~pl.col("status").is_in(CLOSED_STATUSES)
    out = pl.col("outstanding_principal")
    agg = frames.snapshots.group_by(pl.col("business_date").alias("month_end")).agg(
        pl.lit(True).first().alias("has_snapshot"),
        pl.col("loan_count").filter(live).sum(),
        out.filter(live).sum(),
        out.filter(live & (pl.col("bucket") != "current")).sum().alias("at_risk_principal"),
        pl.col("overdue_principal").filter(live).sum(),
    )
    return (
        ends.join(agg, on="month_end", how="left", maintain_order="left")
        .with_columns(pl.col("has_snapshot").fill_null(False), pl.col("loan_count").cast(pl.Int64))
        .with_columns(float_ratio("at_risk_principal", "outstanding_principal").alias("par"))
    )


def _flags(townships: pl.DataFrame, funds: pl.DataFrame) -> pl.DataFrame:
    flags: list[dict[str, str]] = []
    for t in townships.filter(pl.col("principal_repaid") < pl.col("principal_due")).iter_rows(named=True):
        name = t["township_name"] or t["township"]
        rate = percent(t["principal_repaid"], t["principal_due"])
        flags.append(
            {
                "code": "township_below_full_repayment",
                "subject": t["township"],
                "text_zh": f"{name}还贷率{rate}，低于100%",
                "text_en": f"{name}: repayment rate {rate}, below 100%",
            }
        )
    for f in funds.iter_rows(named=True):
        used = ratio(f["guaranteed_outstanding"], f["balance"], 2)
        if f["leverage_flag"]:
            flags.append(
                {
                    "code": "fund_leverage_above_limit",
                    "subject": f["fund_id"],
                    "text_zh": f"担保基金「{f['name']}」放大倍数{used}倍，超过上限{f['leverage_limit']:g}倍",
                    "text_en": (
                        f"Guarantee fund {f['name']}: leverage {used}x, "
                        f"above its limit of {f['leverage_limit']:g}x"
                    ),
                }
            )
        if f["compensation_flag"]:
            rate = percent(f["compensated_principal"], f["matured_or_compensated_principal"])
            threshold = f"{to_decimal(f['risk_threshold']) * 100:.2f}%"
            flags.append(
                {
                    "code": "fund_compensation_rate_above_threshold",
                    "subject": f["fund_id"],
                    "text_zh": f"担保基金「{f['name']}」代偿率{rate}，超过风险阈值{threshold}",
                    "text_en": (
                        f"Guarantee fund {f['name']}: compensation rate {rate}, "
                        f"above its threshold of {threshold}"
                    ),
                }
            )
    return pl.DataFrame(flags, schema=FLAG_COLUMNS)


def county_risk(frames: PortfolioFrames, as_of: date, county_code: str) -> CountyRiskReport:
    county = restrict_to_county(frames, county_code)
    townships, banks = _side_by_side(county, as_of, "township"), _side_by_side(county, as_of, "bank")
    positions = loan_positions(county, as_of)  # every live loan on as_of
    maturities = _maturities(positions, county, as_of)
    summary = pl.concat(
        maturities.filter(pl.col("window") <= w).select(
            pl.lit(w, dtype=pl.Int64).alias("window"),
            pl.len().cast(pl.Int64).alias("loan_count"),
            pl.col("outstanding_principal").sum(),
        )
        for w in WINDOWS
    )
    funds = guarantee_fund_status(county, as_of).rows
    flags = _flags(townships, funds)
    lending = lending_target(county, as_of, county_code)
    people = beneficiary_total(county, BEGINNING, as_of)
    (_, r), (_, p) = repayment_summary(county, as_of, []), par_summary(county, as_of, [])
    headline = {
        "loans_disbursed": people["loans_disbursed"],
        "cumulative_amount": people["amount_disbursed"],
        "live_loans": p["loan_count"],
        "outstanding_principal": p["outstanding_principal"],
        **{
            k: r[k]
            for k in ("principal_due", "principal_repaid", "on_time_repaid", "repayment_rate", "on_time_rate")
        },
        **{k: p[k] for k in ("par30_principal", "par30", "overdue_principal", "arrears_rate")},
        "women_supported": people["women_supported"],
        "jobs_created": people["jobs_created"],
        "jobs_expected": people["jobs_expected"],
        "flags": flags.height,
    }
    return CountyRiskReport(
        county_code=county_code,
        as_of=as_of,
        headline=headline,
        townships=townships,
        banks=banks,
        overdue=par_loan_list(positions.filter(pl.col("dpd") > 0), county),
        maturities=maturities,
        maturity_summary=summary,
        no_recent_visit=_no_recent_visit(positions, county, as_of),
        par_trend=_par_trend(county, as_of),
        lending=lending.rows,
        lending_total=lending.total,
        funds=funds,
        flags=flags,
    )
