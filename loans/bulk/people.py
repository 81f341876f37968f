"""The women (resident IDs, names, categories), their applications and trainings; the post-loan visits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

from loans.bulk.frames import Rng, at_time
from loans.bulk.portfolio import (
    BANKS,
    GIVEN,
    HISTORY_DAYS,
    ID_WEIGHTS,
    METHODS,
    PROJECT_WEIGHTS,
    SURNAMES,
    TIERS,
    Reference,
    placed,
)

# --- the women, their applications and the post-loan visits ------------------------------------------


def people(
    ref: Reference, loans: pl.DataFrame, rng: Rng, today: date, existing_ids: Iterable[str] = ()
) -> dict[str, pl.DataFrame]:
    """Applicants (borrowers, partners, and women whose application did not, or not yet, become a loan),
    applications (one per loan plus ~12 % others), members and trainings. ``applicant``/``application`` are
    row numbers; for loans, application = loan."""
    c, day = pl.col, lambda n: pl.duration(days=n)
    n = loans.height
    loan_apps = loans.select(
        "loan",
        "borrower",
        "kind",
        "county",
        "county_code",
        "township_code",
        "village_code",
        "village_name",
        "county_name",
        "era",
        "bank",
        "bank_code",
        "project_type",
        "jobs_expected",
        "licence",
        "requested",
        "principal",
        "rate_u",
        "term",
        "method",
        "disbursed_on",
        application="loan",
        status=pl.lit("disbursed"),
        created_on=c("disbursed_on") - day(36 + rng.int(c("slot"), 40, 0, 10)),
    )
    e = (
        pl.int_range(n, n + max(1, round(n * 0.12)), eager=True, dtype=pl.Int64)
        .alias("application")
        .to_frame()
    )
    key = c("application") * 7 + 1
    pending = ["draft", "village_certified", "township_submitted", "county_recommended", "bank_approved"]
    extra = (
        e.with_columns(
            status=rng.pick(
                key,
                41,
                {
                    "draft": 0.08,
                    "village_certified": 0.06,
                    "township_submitted": 0.08,
                    "county_recommended": 0.08,
                    "bank_approved": 0.05,
                    "rejected": 0.25,
                    "declined": 0.25,
                    "withdrawn": 0.15,
                },
            ),
            village=(rng.u(key, 42) * ref.villages.height).floor().cast(pl.Int64),
            kind=pl.lit("individual"),
            bank=rng.pick(key, 43, {b: share for b, (_, _, share, _) in enumerate(BANKS)}),
            project_type=rng.pick(key, 44, PROJECT_WEIGHTS),
            jobs_expected=rng.int(key, 45, 1, 5),
            licence=rng.u(key, 46) < 0.15,
            term=rng.pick(key, 47, {12: 0.35, 24: 0.4, 36: 0.25}),
            method=rng.pick(key, 48, {m: w for m, w in METHODS.items() if m != "bullet"}),
            requested=rng.pick(key, 49, TIERS["individual"]).cast(pl.Int64) * 100,
        )
        .with_columns(
            created_on=pl.lit(today)
            - day(
                pl.when(c("status").is_in(pending))
                .then(rng.int(key, 50, 1, 60))
                .otherwise(rng.int(key, 50, 30, HISTORY_DAYS))
            ),
            borrower=-1 - c("application"),  # a woman of her own, never a borrower
        )
        .with_columns(
            era=pl.when(c("created_on") >= ref.era2_from).then(2).otherwise(1),
            requested=pl.when(c("created_on") >= ref.era2_from)
            .then(c("requested"))
            .otherwise(pl.min_horizontal("requested", 20_000_000)),
        )
        .pipe(placed, ref)
    )
    apps = pl.concat([loan_apps, extra.drop("village")], how="diagonal_relaxed").sort("application")

    # Applicants: a borrower registers before her first application; a partner with the partnership's.
    first = apps.filter(c("borrower") >= 0).group_by("borrower").agg(pl.all().sort_by("application").first())
    others = apps.filter(c("borrower") < 0)
    partners = apps.filter(c("kind") == "partnership").with_columns(borrower=-1 - c("application") - 10 * n)
    applicants = (
        pl.concat([first, others, partners], how="diagonal_relaxed")
        .select(
            "borrower",
            "county",
            "county_code",
            "township_code",
            "village_code",
            "village_name",
            "county_name",
            registered_on=c("created_on") - day(rng.int(c("borrower"), 51, 1, 20)),
        )
        .sort("registered_on", "borrower")
        .with_row_index("applicant")
        .with_columns(c("applicant").cast(pl.Int64))
    )
    applicants = _identities(applicants, rng, existing_ids)
    ids = applicants.select("borrower", "applicant")
    apps = apps.join(ids, on="borrower", how="left")
    partner_ids = partners.select("application", borrower="borrower").join(ids, on="borrower")
    members = pl.concat(
        [apps.select("application", "applicant"), partner_ids.select("application", "applicant")]
    )
    trained = applicants.filter(rng.u(c("applicant"), 52) < 0.4).with_columns(
        course=rng.pick(c("applicant"), 53, {"syb": 0.5, "iyb": 0.1, "ecommerce": 0.2, "skills": 0.2}),
        started_on=c("registered_on") - day(rng.int(c("applicant"), 54, 20, 200)),
    )
    return {"applicants": applicants, "applications": apps, "members": members, "trainings": trained}


def _identities(frame: pl.DataFrame, rng: Rng, existing: Iterable[str]) -> pl.DataFrame:
    """Names, phones, birth dates, categories and GB 11643 resident IDs (unique, women: even 17th digit)."""
    c, a = pl.col, pl.col("applicant")
    given = pl.lit(pl.Series(GIVEN))
    frame = frame.with_columns(
        name=pl.lit(pl.Series(SURNAMES)).gather(rng.int(a, 60, 0, len(SURNAMES) - 1))
        + given.gather(rng.int(a, 61, 0, len(GIVEN) - 1))
        + pl.when(rng.u(a, 62) < 0.7)
        .then(given.gather(rng.int(a, 63, 0, len(GIVEN) - 1)))
        .otherwise(pl.lit("")),
        phone=pl.format(
            "1{}{}",
            rng.pick(
                a,
                64,
                {"38": 1, "39": 1, "51": 1, "52": 1, "58": 1, "77": 1, "80": 1, "86": 1, "89": 1, "99": 1},
            ),
            rng.int(a, 65, 0, 99_999_999).cast(pl.String).str.zfill(8),
        ),
        birth_date=c("registered_on") - pl.duration(days=rng.int(a, 66, 21 * 365, 52 * 365)),
        categories=pl.concat_list(
            pl.when(c("village_name").str.ends_with("村"))
            .then(pl.lit("rural"))
            .otherwise(pl.lit("laid_off")),
            pl.when(rng.u(a, 67) < 0.15).then(pl.lit("registered_poor")),
            pl.when(rng.u(a, 68) < 0.12).then(pl.lit("returning_migrant")),
            pl.when(rng.u(a, 69) < 0.08).then(pl.lit("graduate")),
            pl.when(rng.u(a, 70) < 0.02).then(pl.lit("disabled")),
            pl.when(rng.u(a, 71) < 0.01).then(pl.lit("veteran_family")),
        ).list.drop_nulls(),
    )
    taken = set(existing)
    ids = pl.Series("national_id", [None] * frame.height, dtype=pl.String)
    todo = pl.Series([True] * frame.height)
    for attempt in range(50):
        first17 = pl.concat_str(
            c("county_code").str.slice(0, 6),
            c("birth_date").dt.strftime("%Y%m%d"),
            (rng.int(a, 80 + attempt, 0, 499) * 2).cast(pl.String).str.zfill(3),
        )
        total = pl.sum_horizontal(
            first17.str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(ID_WEIGHTS)
        )
        fresh = frame.select(first17 + pl.lit(pl.Series(list("10X98765432"))).gather(total % 11)).to_series()
        ids = pl.select(pl.when(todo).then(fresh).otherwise(ids)).to_series()
        todo = ids.is_duplicated() & todo | ids.is_in(list(taken))
        if not todo.any():
            return frame.with_columns(national_id=ids)
    raise RuntimeError("could not draw unique resident IDs")


def visit_rows(loans: pl.DataFrame, state: pl.DataFrame, rng: Rng, today: date) -> pl.DataFrame:
    """贷后核查: a township officer visits two months after disbursement, then every half year while the loan runs."""
    c = pl.col
    visits = (
        loans.join(state.select("loan", "settled_on"), on="loan")
        .with_columns(
            first=c("disbursed_on") + pl.duration(days=60),
            end=pl.coalesce("settled_on", pl.lit(today)),
        )
        .with_columns(
            count=pl.min_horizontal(6, ((c("end") - c("first")).dt.total_days() // 180 + 1).clip(0))
        )
    )
    visits = visits.filter(c("count") > 0).with_columns(v=pl.int_ranges(0, c("count"))).explode("v")
    key, beh = c("loan") * 8 + c("v"), c("behaviour")
    status = (
        pl.when(beh.is_in(["on_time", "reversed"]))
        .then(rng.pick(key, 90, {"operating": 0.8, "expanding": 0.2}))
        .when(beh == "prepaid")
        .then(rng.pick(key, 90, {"operating": 0.5, "expanding": 0.5}))
        .when(beh == "late")
        .then(rng.pick(key, 90, {"operating": 0.6, "struggling": 0.4}))
        .when((beh == "never") & (c("v") > 0))
        .then(rng.pick(key, 90, {"struggling": 0.5, "closed": 0.5}))
        .otherwise(rng.pick(key, 90, {"operating": 0.3, "struggling": 0.7}))
    )
    notes = {
        "operating": "经营正常，贷款资金按约定用途使用",
        "expanding": "扩大经营规模，新增带动就业",
        "struggling": "经营困难，销售下滑，已提醒按时还款",
        "closed": "已停止经营，正在协调还款",
    }
    return (
        visits.with_columns(
            visited_on=c("first") + pl.duration(days=180 * c("v") + rng.int(key, 91, 0, 20)),
            business_status=status,
        )
        .filter(c("visited_on") <= c("end"))
        .select(
            "loan",
            "visited_on",
            "business_status",
            "county_code",
            "township_code",
            "village_code",
            "bank_code",
            fund_use_as_agreed=rng.u(key, 92) < pl.when(beh == "never").then(0.7).otherwise(0.97),
            jobs_now=pl.when(c("business_status") == "closed")
            .then(0)
            .when(c("business_status") == "expanding")
            .then(c("jobs_expected") + rng.int(key, 93, 1, 3))
            .when(c("business_status") == "struggling")
            .then(pl.max_horizontal(1, c("jobs_expected") - 1))
            .otherwise(c("jobs_expected")),
            risk_level=pl.col("business_status").replace_strict(
                {"operating": "low", "expanding": "low", "struggling": "medium", "closed": "high"}
            ),
            notes=c("business_status").replace_strict(notes),
            created_at=at_time(c("visited_on"), 16 * 60 + rng.int(key, 94, 0, 90)),
        )
    )


def last_visits(visits: pl.DataFrame) -> pl.DataFrame:
    """Per visited loan, what it keeps of its latest visit (`Loan.last_visit_on`, `last_visit_jobs`: of two visits
    on one day, the larger count)."""
    latest = pl.col("visited_on").max()
    return visits.group_by("loan").agg(
        latest.alias("last_visit_on"),
        pl.col("jobs_now").filter(pl.col("visited_on") == latest).max().alias("last_visit_jobs"),
    )
