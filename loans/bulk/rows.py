"""Table rows: the reference rows (inserted unless already there) and the frames COPYed into each table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from uuid_utils import uuid7

from loans.bulk.frames import Rng, at_time
from loans.bulk.portfolio import METHODS, PROJECTS, Reference
from loans.lending.delinquency import DUE_FIGURES

_CREDIT = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_OPINION = "经审核，申请人符合创业担保贷款条件，村级证明齐全，项目真实可行，同意推荐。"


async def insert_reference_rows(
    raw: Any, ref: Reference, today: date
) -> tuple[dict[int, Any], dict[int, Any]]:
    """Regions, banks, products and guarantee funds, skipping those already there (they are shared by loads).
    Returns product ids by ``county * 2 + era - 1`` and fund ids by ``county * 3 + bank``."""
    now = datetime.now(UTC)
    await raw.executemany(
        "INSERT INTO region (code, name, level, parent_code, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) "
        "ON CONFLICT DO NOTHING",
        [(*row, now) for row in ref.regions.iter_rows()],
    )
    await raw.executemany(
        "INSERT INTO bank (code, name, county_code, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) "
        "ON CONFLICT DO NOTHING",
        [
            (code, name, ref.counties[c][0] + "000000", now)
            for c, _, code, name, _, _ in ref.banks.iter_rows()
        ],
    )
    products, era1_from = [], date(ref.era2_from.year - 6, 1, 1)
    for c, (prefix, name, _) in enumerate(ref.counties):
        for era, (start, end, cap, share, rate) in enumerate(
            (
                (era1_from, ref.era2_from - timedelta(days=1), 20_000_000, "1", "0.0600"),
                (ref.era2_from, None, 30_000_000, "0.5", "0.0500"),
            ),
            start=1,
        ):
            products.append(
                (
                    uuid7(),
                    ref.product_code(c, era),
                    prefix + "000000",
                    f"{name}创业担保贷款（妇女，{start.year}版）",
                    cap,
                    110_000_000,
                    400_000_000,
                    100_000_000,
                    36,
                    list(METHODS),
                    Decimal(rate),
                    Decimal(share),
                    Decimal("0.5"),
                    "fund",
                    3,
                    False,
                    start,
                    end,
                    now,
                )
            )
    await raw.executemany(
        "INSERT INTO loan_product (id, code, county_code, name, max_amount_individual, max_amount_partnership, "
        "max_amount_enterprise, max_amount_cooperative, max_term_months, repayment_methods, max_annual_rate, "
        "subsidy_share, penalty_markup, guarantee_mode, max_borrowings, requires_training, effective_from, "
        "effective_to, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
        "$15, $16, $17, $18, $19, $19) ON CONFLICT DO NOTHING",
        products,
    )
    codes = {code: key for key, code in enumerate(p[1] for p in products)}
    product_ids = {
        codes[code]: id_
        for code, id_ in await raw.fetch(
            "SELECT code, id FROM loan_product WHERE code = ANY($1)", list(codes)
        )
    }
    fund_ids = {}
    for c, b, code, name, _, leverage in ref.banks.iter_rows():
        fund_name = f"{ref.counties[c][1]}创业担保贷款担保基金（{name}）"
        county_code = ref.counties[c][0] + "000000"
        fund_id = await raw.fetchval(
            "SELECT id FROM guarantee_fund WHERE county_code = $1 AND bank_code = $2 AND name = $3",
            county_code,
            code,
            fund_name,
        )
        if fund_id is None:
            fund_id = uuid7()
            await raw.execute(
                "INSERT INTO guarantee_fund (id, county_code, bank_code, name, leverage, compensation_after_days, "
                "compensation_share, risk_threshold, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 90, $6, "
                "0.05, $7, $7)",
                fund_id,
                county_code,
                code,
                fund_name,
                Decimal(leverage),
                Decimal("0.8") if code.startswith("RCC") else Decimal(1),
                now,
            )
        fund_ids[c * 3 + b] = fund_id
    return product_ids, fund_ids


def applicant_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "national_id",
        "name",
        "phone",
        "birth_date",
        "county_code",
        "township_code",
        "village_code",
        "categories",
        applicant_id="applicant",
        created_at=at_time(pl.col("registered_on"), 600),
        updated_at=at_time(pl.col("registered_on"), 600),
    ).rename({"applicant_id": "id"})


def training_rows(frame: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    c = pl.col
    titles = {
        "syb": "巾帼创业SYB培训班",
        "iyb": "妇女创业IYB改善你的企业培训班",
        "ecommerce": "巾帼电商直播带货培训班",
        "skills": "巾帼家政服务技能培训班",
    }
    days = {"syb": 10, "iyb": 8, "ecommerce": 5, "skills": 7}
    return (
        frame.with_row_index("n")
        .select(
            "course",
            "started_on",
            applicant_id="applicant",
            title=c("course").replace_strict(titles),
            provider=c("county_name")
            + pl.when(c("course").is_in(["syb", "iyb"]))
            .then(pl.lit("人力资源和社会保障局"))
            .otherwise(pl.lit("妇女联合会")),
            finished_on=c("started_on") + pl.duration(days=c("course").replace_strict(days) - 1),
            certificate_no=pl.when(c("course").is_in(["syb", "iyb"])).then(
                pl.format(
                    "{}{}{}{}",
                    c("course").str.to_uppercase(),
                    c("county_code").str.slice(0, 6),
                    c("started_on").dt.strftime("%Y%m"),
                    c("n").cast(pl.String).str.zfill(6),
                )
            ),
            created_at=at_time(c("registered_on"), 660),
            updated_at=at_time(c("registered_on"), 660),
        )
        .with_columns(id=pl.Series([uuid7() for _ in range(frame.height)], dtype=pl.Object))
    )


def application_rows(frame: pl.DataFrame, ref: Reference, rng: Rng) -> pl.DataFrame:
    c, a = pl.col, pl.col("application")
    status, kind = c("status"), c("kind")
    certified = ~c("licence") & ~status.is_in(["draft", "withdrawn"])
    recommended = status.is_in(["county_recommended", "bank_approved", "declined", "disbursed"])
    approved = status.is_in(["bank_approved", "disbursed"])
    decided_on = (
        pl.when(status == "disbursed")
        .then(c("disbursed_on") - pl.duration(days=5))
        .otherwise(c("created_on") + pl.duration(days=31))
    )
    code_kind = (
        pl.when(kind == "cooperative")
        .then(pl.lit("93"))
        .when(kind == "enterprise")
        .then(pl.lit("91"))
        .otherwise(pl.lit("92"))
    )
    chars = [rng.int(a, 100 + j, 0, 30) for j in range(7)]
    body = pl.concat_str(
        code_kind,
        c("county_code").str.slice(0, 6),
        pl.lit("MA"),
        *[pl.lit(pl.Series(list(_CREDIT))).gather(ch) for ch in chars],
    )
    total = pl.sum_horizontal(
        *[body.str.slice(i, 1).cast(pl.Int64) * _CREDIT_WEIGHTS[i] for i in range(8)],
        pl.lit(_CREDIT.index("M") * _CREDIT_WEIGHTS[8] + _CREDIT.index("A") * _CREDIT_WEIGHTS[9]),
        *[ch * _CREDIT_WEIGHTS[10 + j] for j, ch in enumerate(chars)],
    )
    credit = body + pl.lit(pl.Series(list(_CREDIT))).gather((31 - total % 31) % 31)
    place = c("village_name").str.replace(r"(村|社区)$", "")
    return frame.select(
        "project_type",
        "jobs_expected",
        "county_code",
        "township_code",
        "village_code",
        "bank_code",
        "status",
        id=a,
        applicant_id="applicant",
        product_id=c("county") * 2 + c("era") - 1,
        borrower_kind=kind,
        enterprise_name=pl.when(kind == "cooperative")
        .then(c("county_name") + place + "巾帼种养专业合作社")
        .when(kind == "enterprise")
        .then(place + "巾帼农产品有限公司"),
        credit_code=pl.when(kind.is_in(["cooperative", "enterprise"])).then(credit),
        amount_requested="requested",
        term_months="term",
        repayment_method="method",
        has_business_licence="licence",
        business_licence_no=pl.when(c("licence")).then(credit),
        guarantee_fund_id=c("county") * 3 + c("bank"),
        project_description=c("project_type").replace_strict(PROJECTS),
        project_investment=(c("requested") * (1.3 + 0.7 * rng.u(a, 110)) / 100).floor().cast(pl.Int64) * 100,
        village_certificate_no=pl.when(certified).then(
            pl.format("{}证字〔{}〕{}号", c("village_name"), c("created_on").dt.year(), a.cast(pl.String))
        ),
        village_committee=pl.when(certified).then(c("village_name") + "妇代会"),
        village_certified_on=pl.when(certified).then(c("created_on") + pl.duration(days=6)),
        county_opinion=pl.when(recommended)
        .then(pl.lit(_OPINION))
        .when(status == "rejected")
        .then(pl.lit("项目不属于创业担保贷款扶持范围，不予推荐")),
        approved_amount=pl.when(status == "disbursed")
        .then(c("principal"))
        .when(approved)
        .then(c("requested")),
        approved_rate=pl.when(approved).then(pl.coalesce(c("rate_u"), pl.lit(43500))),
        approved_term_months=pl.when(approved).then(c("term")),
        approved_method=pl.when(approved).then(c("method")),
        decision_reason=pl.when(status == "declined").then(
            pl.lit("征信报告显示近两年有多次逾期记录，暂不予授信")
        ),
        decided_on=pl.when(approved | (status == "declined")).then(decided_on),
        decided_at=pl.when(approved | (status == "declined")).then(at_time(decided_on, 900)),
        created_at=at_time(c("created_on"), 570),
        updated_at=at_time(c("created_on"), 570),
    )


def loan_rows(
    chunk: pl.DataFrame, state: pl.DataFrame, visited: pl.DataFrame, serial_base: int
) -> pl.DataFrame:
    """The loan rows: ``chunk``'s terms, their ``state`` after their history, what they keep of their latest visit
    (``visited``, `people.last_visits`)."""
    c = pl.col
    serial = (c("loan") + serial_base).cast(pl.String)
    created = at_time(c("disbursed_on"), 600 + c("minute"))
    return (
        chunk.join(state, on="loan")
        .join(visited, on="loan", how="left")
        .select(
            "bank_code",
            "county_code",
            "township_code",
            "village_code",
            "disbursed_on",
            "principal",
            "status",
            "outstanding_principal",
            "settled_on",
            "project_type",
            "jobs_expected",
            *DUE_FIGURES,
            "last_visit_on",
            "last_visit_jobs",
            id="loan",
            application_id="loan",
            applicant_id="applicant",
            product_id=c("county") * 2 + c("era") - 1,
            guarantee_fund_id=c("county") * 3 + c("bank"),
            contract_no=pl.format(
                "{}-{}-{}", c("bank_code"), c("disbursed_on").dt.year(), serial.str.zfill(7)
            ),
            bank_txn_ref=pl.format("FK{}{}", c("disbursed_on").dt.strftime("%Y%m%d"), serial.str.zfill(9)),
            annual_rate="rate_u",
            term_months="term",
            repayment_method="method",
            subsidy_share="subsidy_u",
            penalty_markup="markup_u",
            guarantee_mode=pl.lit("fund"),
            maturity_date="maturity",
            days_past_due=pl.lit(0),
            bucket=pl.lit("current"),
            five_class=pl.lit("normal"),
            overdue_principal=pl.lit(0, pl.Int64),
            penalty_outstanding=pl.lit(0, pl.Int64),
            compensated_amount=pl.lit(0, pl.Int64),
            recovered_amount=pl.lit(0, pl.Int64),
            created_at=created,
            updated_at=created,
        )
    )
