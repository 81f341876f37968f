"""Bulk data for load tests and benchmarks: N loans with their whole history, COPYed into PostgreSQL.

`loans demo-data --loans N` and `python -m benchmarks` use it. Rows are generated set-wise with polars
(per-loan Python only for the ~3 % of loans that prepay, which go through the real allocation code) and
written with asyncpg's binary COPY in one transaction. What it writes is what the services would have:
- schedules come from a vectorized ``build_schedule`` (integer arithmetic, half-up; tests compare the two);
- repayments follow loans/repayments/allocation.py: whole installments paid on (or a few days before)
  their due dates, or late with the penalty interest close of business accrued, partial ones paying part
  of the oldest unpaid installment, prepayments settled by ``allocate`` itself, and reversed repayments
  whose allocation is not on the installments;
- penalty interest is what close of business accrued day by day up to yesterday, booked as one
  penalty_accrual row per installment (dated its last day) instead of one row per day;
- yesterday is a closed business date, and ``refresh_loan_range`` sets DPD, bucket, class and status as of
  today, as close of business would have.
Not generated: audit events, users, compensations, bank file imports, reminders, portfolio snapshots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from uuid_utils import uuid7

from loans.loans.delinquency import refresh_loan_range
from loans.loans.schedule import _level_payment
from loans.repayments.allocation import InstallmentState, allocate, payoff_amount

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 6 * 365
CHUNK_LOANS = 50_000
REFRESH_BATCH = 20_000
BEHAVIOURS = {"on_time": 0.75, "late": 0.10, "partial": 0.05, "never": 0.05, "prepaid": 0.03, "reversed": 0.02}
KINDS = {"individual": 0.87, "partnership": 0.07, "cooperative": 0.04, "enterprise": 0.02}
METHODS = {"quarterly_interest_bullet": 0.45, "monthly_interest_bullet": 0.2, "equal_installment": 0.12,
           "equal_principal": 0.1, "bullet": 0.13}
PERIODIC = {"quarterly_interest_bullet": (3, 6, 9, 12), "monthly_interest_bullet": tuple(range(1, 13)), "bullet": ()}
TIERS = {  # yuan, per borrower kind
    "individual": {30_000: 0.08, 50_000: 0.22, 80_000: 0.12, 100_000: 0.25, 150_000: 0.13, 200_000: 0.12, 300_000: 0.08},
    "partnership": {200_000: 0.3, 300_000: 0.3, 500_000: 0.25, 800_000: 0.15},
    "cooperative": {200_000: 0.3, 300_000: 0.3, 500_000: 0.25, 1_000_000: 0.15},
    "enterprise": {500_000: 0.4, 1_000_000: 0.35, 2_000_000: 0.15, 3_000_000: 0.1},
}
PROJECTS = {
    "planting": "种植高原夏菜、中药材，订单销售", "breeding": "养殖牛羊，新建标准化圈舍", "processing": "农产品加工坊，供应超市食堂",
    "ecommerce": "电商直播销售本地土特产", "handicraft": "手工刺绣编织，带动妇女居家就业", "services": "社区便民服务：家政、餐饮、美发",
    "agritourism": "农家乐与采摘园", "other": "其他创业项目",
}
PROJECT_WEIGHTS = {"planting": 0.22, "breeding": 0.22, "processing": 0.1, "ecommerce": 0.12, "handicraft": 0.08,
                   "services": 0.16, "agritourism": 0.06, "other": 0.04}
# 青海省 counties (统计用区划代码, first six digits): never the codes the tests or the demo county use.
COUNTIES = [
    ("630102", "城东区", "西宁市"), ("630103", "城中区", "西宁市"), ("630104", "城西区", "西宁市"),
    ("630105", "城北区", "西宁市"), ("630106", "湟中区", "西宁市"), ("630121", "大通回族土族自治县", "西宁市"),
    ("630123", "湟源县", "西宁市"), ("630202", "乐都区", "海东市"), ("630203", "平安区", "海东市"),
    ("630222", "民和回族土族自治县", "海东市"), ("630223", "互助土族自治县", "海东市"), ("630224", "化隆回族自治县", "海东市"),
    ("630225", "循化撒拉族自治县", "海东市"), ("632221", "门源回族自治县", "海北州"), ("632222", "祁连县", "海北州"),
    ("632223", "海晏县", "海北州"), ("632224", "刚察县", "海北州"), ("632322", "尖扎县", "黄南州"),
    ("632521", "共和县", "海南州"), ("632522", "同德县", "海南州"), ("632523", "贵德县", "海南州"),
    ("632524", "兴海县", "海南州"), ("632525", "贵南县", "海南州"), ("632801", "格尔木市", "海西州"),
    ("632802", "德令哈市", "海西州"), ("632821", "乌兰县", "海西州"), ("632822", "都兰县", "海西州"),
]
PLACES = ("东川 西河 南山 北塬 清泉 柳湾 石峡 红崖 金沙 青石 马营 杨家 李家 新庄 古城 塔尔 黄河 白马 双树 高庙 三合 大寺 "
          "上五 下寨 沙塘 河阴 峡口 多巴 拦隆 甘河 丹麻 威远 哈拉 巴燕 群科 加定 塘川 五十 蔡家 鲁沙").split()
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("秀英玉兰桂芳梅霞丽娟红燕敏静婷雪慧巧珍凤琴花云春晓彩金银月淑华萍翠荣兰娥芬莲丹")
BANKS = (("ABC", "中国农业银行{}支行", 0.5, "5"), ("RCC", "{}农村商业银行", 0.35, "8"), ("PSBC", "中国邮政储蓄银行{}支行", 0.15, "5"))
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


# --- random numbers: pure functions of (row key, salt, seed), so the data set depends on the seed only -----


@dataclass(frozen=True)
class Rng:
    seed: int

    def u(self, key: pl.Expr, salt: int) -> pl.Expr:
        """Uniform in [0, 1)."""
        return (key.hash(seed=self.seed * 10_007 + salt) // 2048).cast(pl.Float64) / float(1 << 53)

    def int(self, key: pl.Expr, salt: int, low: int, high: int) -> pl.Expr:
        """Uniform integer in [low, high]."""
        return (self.u(key, salt) * (high - low + 1)).floor().cast(pl.Int64) + low

    def pick(self, key: pl.Expr, salt: int, weights: dict[Any, float]) -> pl.Expr:
        u, total, chain = self.u(key, salt), 0.0, None
        items = list(weights.items())
        for value, weight in items[:-1]:
            total += weight / sum(weights.values())
            chain = (pl.when(u < total) if chain is None else chain.when(u < total)).then(pl.lit(value))
        return pl.lit(items[-1][0]) if chain is None else chain.otherwise(pl.lit(items[-1][0]))


def add_months(d: pl.Expr, months: pl.Expr | int) -> pl.Expr:
    """``add_months_clamped``: the same day of month ``months`` later, clamped to that month's end."""
    total = d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64) - 1 + months
    year, month = total // 12, total % 12 + 1
    return pl.date(year, month, pl.min_horizontal(d.dt.day(), pl.date(year, month, 1).dt.month_end().dt.day()))


def half_up(numerator: pl.Expr, denominator: int | pl.Expr) -> pl.Expr:
    """round(numerator / denominator) half-up, for numerator >= 0 (exact integer arithmetic)."""
    return (2 * numerator + denominator) // (2 * denominator)


def at_time(day: pl.Expr, minutes: pl.Expr) -> pl.Expr:
    """A UTC timestamp ``minutes`` after midnight of ``day`` in Asia/Shanghai."""
    local = day.cast(pl.Datetime("us")) + pl.duration(minutes=minutes)
    return local.dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC")


# --- schedules ----------------------------------------------------------------------------------------


def schedule_frame(loans: pl.DataFrame) -> pl.DataFrame:
    """``build_schedule`` for every row of ``loans`` (loan, principal, rate_u = annual rate × 10⁶, term, method,
    disbursed_on, subsidy_u = subsidy share × 10⁴), set-wise: one row per installment."""
    periodic = loans.filter(pl.col("method").is_in(list(PERIODIC)))
    amortizing = loans.filter(~pl.col("method").is_in(list(PERIODIC)))
    rows = pl.concat([_periodic(periodic), _amortizing(amortizing)], how="vertical_relaxed")
    subsidy = half_up(pl.col("interest") * pl.col("subsidy_u"), 10_000)
    return (
        rows.join(loans.select("loan", "subsidy_u"), on="loan")
        .with_columns(subsidy_interest=subsidy, borrower_interest=pl.col("interest") - subsidy)
        .drop("subsidy_u")
        .sort("loan", "seq")
    )


def _periodic(loans: pl.DataFrame) -> pl.DataFrame:
    """Interest on the 20th of the method's months strictly between disbursement and maturity, then maturity."""
    d0 = pl.col("disbursed_on")
    base = loans.with_columns(maturity=add_months(d0, pl.col("term")))
    month_ok = pl.lit(False)
    for method, months in PERIODIC.items():
        month_ok = month_ok | ((pl.col("method") == method) & pl.col("due_date").dt.month().is_in(list(months)))
    interest_days = (
        base.with_columns(j=pl.int_ranges(0, pl.col("term") + 1)).explode("j")
        .with_columns(due_date=add_months(pl.date(d0.dt.year(), d0.dt.month(), 20), pl.col("j")))
        .filter((pl.col("due_date") > d0) & (pl.col("due_date") < pl.col("maturity")) & month_ok)
    )
    columns = ["loan", "principal", "rate_u", "disbursed_on", "maturity", "due_date"]
    rows = pl.concat([interest_days.select(columns), base.with_columns(due_date=pl.col("maturity")).select(columns)])
    rows = rows.sort("loan", "due_date").with_columns(
        seq=pl.int_range(1, pl.len() + 1).over("loan").cast(pl.Int64),
        period_start=pl.col("due_date").shift(1).over("loan").fill_null(d0),
    )
    days = (pl.col("due_date") - pl.col("period_start")).dt.total_days()
    return rows.select(
        "loan", "seq", "period_start", "due_date",
        principal=pl.when(pl.col("due_date") == pl.col("maturity")).then(pl.col("principal")).otherwise(0),
        interest=half_up(pl.col("principal") * pl.col("rate_u") * days, 360 * 10**6),
    )


def _amortizing(loans: pl.DataFrame) -> pl.DataFrame:
    """Monthly installments; the level payment A of an annuity comes from schedule.py, once per distinct loan."""
    annuities = loans.filter(pl.col("method") == "equal_installment").select("principal", "rate_u", "term").unique()
    payments = annuities.with_columns(payment=pl.Series([
        _level_payment(p, Decimal(r) / 10**6, n) for p, r, n in annuities.iter_rows()
    ], dtype=pl.Int64))
    state = loans.join(payments, on=["principal", "rate_u", "term"], how="left").select(
        "loan", "disbursed_on", "term", "rate_u", "method", outstanding="principal",
        share=pl.when(pl.col("method") == "equal_installment").then(pl.col("payment"))
        .otherwise(half_up(pl.col("principal"), pl.col("term"))),
    )
    parts = []
    for seq in range(1, (loans["term"].max() or 0) + 1):
        state = state.filter(pl.col("term") >= seq).with_columns(
            interest=half_up(pl.col("outstanding") * pl.col("rate_u"), 12 * 10**6))
        scheduled = pl.col("share") - pl.when(pl.col("method") == "equal_installment").then(pl.col("interest")).otherwise(0)
        state = state.with_columns(principal=pl.when(pl.col("term") == seq).then(pl.col("outstanding")).otherwise(
            pl.min_horizontal(pl.max_horizontal(scheduled, 0), pl.col("outstanding"))))
        parts.append(state.select("loan", pl.lit(seq, pl.Int64).alias("seq"),
                                  add_months(pl.col("disbursed_on"), seq - 1).alias("period_start"),
                                  add_months(pl.col("disbursed_on"), seq).alias("due_date"), "principal", "interest"))
        state = state.with_columns(outstanding=pl.col("outstanding") - pl.col("principal"))
    return pl.concat(parts) if parts else pl.DataFrame(schema={
        "loan": pl.Int64, "seq": pl.Int64, "period_start": pl.Date, "due_date": pl.Date,
        "principal": pl.Int64, "interest": pl.Int64})


# --- reference rows: regions, banks, products, funds ---------------------------------------------------


@dataclass
class Reference:
    regions: pl.DataFrame  # code, name, level, parent_code
    villages: pl.DataFrame  # village (global index), county (index), county/township/village codes, names
    banks: pl.DataFrame  # county, bank (index), bank_code, name, leverage, share
    counties: list[tuple[str, str, str]]  # (six-digit prefix, name, city)
    era2_from: date  # loans disbursed from this date are signed under the newer product

    def product_code(self, county: int, era: int) -> str:
        return f"{self.counties[county][0]}-CYDB-{self.era2_from.year if era == 2 else self.era2_from.year - 6}"


def reference(n_counties: int, today: date) -> Reference:
    counties = [COUNTIES[c] if c < len(COUNTIES) else (f"639{c:03d}", f"巾帼示范{c}县", "海西州")
                for c in range(n_counties)]
    regions, villages = [], []
    for c, (prefix, county_name, _city) in enumerate(counties):
        county_code = prefix + "000000"
        regions.append((county_code, county_name, "county", None))
        for t in range(8 + (3 * c) % 5):
            street = t < 2
            township_code = f"{prefix}{(t + 1) if street else 98 + t:03d}000"
            regions.append((township_code, PLACES[(7 * c + t) % len(PLACES)] + ("街道" if street else "镇"), "township",
                            county_code))
            for v in range(8 + (c + t) % 5):
                code = f"{township_code[:9]}{(v + 1) if street else 201 + v:03d}"
                name = PLACES[(13 * c + 7 * t + v + 3) % len(PLACES)] + ("社区" if street else "村")
                regions.append((code, name, "village", township_code))
                villages.append((len(villages), c, county_code, township_code, code, name, county_name))
    banks = [(c, b, f"{short}-{prefix}", name.format(county_name.removesuffix("回族土族自治县")), share, leverage)
             for c, (prefix, county_name, _) in enumerate(counties)
             for b, (short, name, share, leverage) in enumerate(BANKS)]
    return Reference(
        regions=pl.DataFrame(regions, schema=["code", "name", "level", "parent_code"], orient="row"),
        villages=pl.DataFrame(villages, schema=["village", "county", "county_code", "township_code", "village_code",
                                                "village_name", "county_name"], orient="row"),
        banks=pl.DataFrame(banks, schema=["county", "bank", "bank_code", "name", "share", "leverage"], orient="row"),
        counties=counties,
        era2_from=date(today.year - 3, 1, 1),
    )


# --- the loans: borrowers who may borrow again after repaying, terms, and how each loan behaves ----------


def plan_loans(ref: Reference, n: int, rng: Rng, today: date) -> pl.DataFrame:
    """One row per loan, sorted by disbursement; ``loan`` is the row number, ``borrower`` the applicant."""
    parts, borrowers = [], 0
    while sum(p.height for p in parts) < n:
        batch = max(1000, int((n - sum(p.height for p in parts)) / 1.05))
        parts.append(_chains(rng, borrowers, batch, today))
        borrowers += batch
    slots = pl.concat(parts).sort(rng.u(pl.col("slot"), 6)).head(n)
    slots = slots.with_columns(is_final=pl.col("k") == pl.col("k").max().over("borrower"))
    final_share = slots["is_final"].mean() or 1.0
    weights = {b: w / final_share for b, w in BEHAVIOURS.items()}
    weights["on_time"] = max(0.0, 1 - sum(w for b, w in weights.items() if b != "on_time"))
    s, era2 = pl.col("slot"), pl.col("disbursed_on") >= ref.era2_from
    kind = pl.col("kind")
    tier = pl.lit(0, pl.Int64)
    for name, tiers in reversed(TIERS.items()):
        tier = pl.when(kind == name).then(rng.pick(s, 10, tiers)).otherwise(tier)
    n_villages = ref.villages.height
    loans = (
        slots.with_columns(
            village=(rng.u(pl.col("borrower"), 9) * n_villages).floor().cast(pl.Int64),
            kind=rng.pick(s, 7, KINDS),
            bank=rng.pick(s, 8, {b: share for b, (_, _, share, _) in enumerate(BANKS)}),
            era=pl.when(era2).then(2).otherwise(1),
            rate_u=pl.when(era2).then(rng.pick(s, 11, {34500: 0.25, 36500: 0.35, 39500: 0.25, 43500: 0.15}))
            .otherwise(rng.pick(s, 11, {43500: 0.6, 47500: 0.4})),
            subsidy_u=pl.when(era2).then(5000).otherwise(10000),
            markup_u=pl.lit(5000),
            project_type=rng.pick(s, 12, PROJECT_WEIGHTS),
            behaviour=pl.when(pl.col("is_final")).then(rng.pick(s, 20, weights)).otherwise(pl.lit("on_time")),
            late_days=rng.int(s, 21, 3, 42),
            partial_back=rng.int(s, 22, 0, 2),
            partial_f=0.2 + 0.6 * rng.u(s, 23),
            prepay_f=0.3 + 0.6 * rng.u(s, 24),
            reversal_u=rng.u(s, 25),
            licence=rng.u(s, 26) < 0.15,
            minute=rng.int(s, 27, 0, 480),
        )
        .with_columns(yuan=tier)
        .with_columns(
            yuan=pl.when((kind == "individual") & ~era2).then(pl.min_horizontal("yuan", 200_000)).otherwise("yuan"),
            licence=pl.col("licence") | kind.is_in(["cooperative", "enterprise"]),
            jobs_expected=pl.when(kind == "individual").then(rng.int(s, 13, 1, 5))
            .when(kind == "partnership").then(rng.int(s, 13, 3, 8)).otherwise(rng.int(s, 13, 8, 30)),
        )
        .with_columns(
            principal=pl.col("yuan") * 100,
            requested=(pl.col("yuan") + pl.when(rng.u(s, 14) < 0.1).then(rng.int(s, 15, 1, 5) * 10_000).otherwise(0))
            * 100,
            maturity=add_months(pl.col("disbursed_on"), pl.col("term")),
        )
        .join(ref.villages.select("village", "county", "county_code", "township_code", "village_code",
                                  "village_name", "county_name"), on="village")
        .join(ref.banks.select("county", "bank", "bank_code"), on=["county", "bank"])
        .sort("disbursed_on", "slot")
        .with_row_index("loan")
        .with_columns(pl.col("loan").cast(pl.Int64))
    )
    return loans.with_columns(prepay_on=pl.when(pl.col("behaviour") == "prepaid").then(
        pl.col("disbursed_on") + pl.duration(days=(pl.col("prepay_f") * (pl.col("maturity") - pl.col("disbursed_on"))
                                                   .dt.total_days()).floor().cast(pl.Int64))))


def _chains(rng: Rng, first: int, n: int, today: date) -> pl.DataFrame:
    """Borrowers with one to three loans in a row, each disbursed some weeks after the last one matured."""
    b = pl.col("borrower")
    borrowers = pl.DataFrame({"borrower": pl.int_range(first, first + n, eager=True, dtype=pl.Int64)})
    slots = (
        borrowers.with_columns(loans=rng.pick(b, 1, {1: 0.86, 2: 0.11, 3: 0.03}))
        .with_columns(k=pl.int_ranges(1, pl.col("loans") + 1)).explode("k")
        .with_columns(slot=b * 4 + pl.col("k"))
        .with_columns(method=rng.pick(pl.col("slot"), 2, METHODS))
        .with_columns(term=pl.when(pl.col("method") == "bullet").then(12)
                      .otherwise(rng.pick(pl.col("slot"), 3, {12: 0.35, 24: 0.4, 36: 0.25})),
                      gap=rng.int(pl.col("slot"), 4, 30, 180))
    )
    days_ago = 1 + (HISTORY_DAYS * (1 - rng.u(b, 5).sqrt())).floor().cast(pl.Int64)
    done, previous = [], None
    for k in (1, 2, 3):
        step = slots.filter(pl.col("k") == k)
        if previous is None:
            step = step.with_columns(disbursed_on=pl.lit(today) - pl.duration(days=days_ago))
        else:
            step = step.join(previous, on="borrower").with_columns(
                disbursed_on=pl.col("previous_maturity") + pl.duration(days=pl.col("gap"))).drop("previous_maturity")
        step = step.filter(pl.col("disbursed_on") < today)
        done.append(step.drop("loans", "gap"))
        previous = step.select("borrower", previous_maturity=add_months(pl.col("disbursed_on"), pl.col("term")))
    return pl.concat(done)
