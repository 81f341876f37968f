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

import asyncio
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
CHUNK_LOANS = 25_000
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


# --- each loan's history: repayments, allocations, reversals, penalty interest --------------------------


@dataclass
class History:
    installments: pl.DataFrame
    repayments: pl.DataFrame  # rep (row number), loan, amount, paid_on, settles, created_at
    allocations: pl.DataFrame  # rep, loan, seq, penalty, interest, principal, cancelled_interest, cancelled_subsidy
    reversals: pl.DataFrame  # rep, loan, reversed_on, created_at
    penalties: pl.DataFrame  # loan, seq, accrual_date, base, amount
    loans: pl.DataFrame  # loan, status, settled_on, outstanding_principal


def history(loans: pl.DataFrame, rng: Rng, today: date) -> History:
    """Apply each loan's behaviour to its schedule, up to ``today``."""
    c, day = pl.col, lambda n: pl.duration(days=n)
    x = schedule_frame(loans).join(loans.select(
        "loan", "behaviour", "late_days", "partial_back", "partial_f", "prepay_on", "reversal_u", "rate_u", "markup_u",
        "subsidy_u"), on="loan")
    key, beh, due = c("loan") * 64 + c("seq"), c("behaviour"), c("due_date")
    owes = c("principal") + c("borrower_interest") > 0
    payable = owes & (due <= today)
    x = x.with_columns(
        owed=c("principal") + c("borrower_interest"), is_last=c("seq") == c("seq").max().over("loan"),
        payable=payable, rank=payable.cast(pl.Int64).cum_sum().over("loan"), due_count=payable.sum().over("loan"),
    ).with_columns(
        rank2=(c("payable") & ~c("is_last")).cast(pl.Int64).cum_sum().over("loan"),
        count2=(c("payable") & ~c("is_last")).sum().over("loan"),
        target=pl.max_horizontal(1, c("due_count") - c("partial_back")),
    )
    on_time_like = (beh.is_in(["on_time", "reversed"]) | ((beh == "prepaid") & (c("prepay_on").is_null() | (due < c("prepay_on"))))
                    | ((beh == "partial") & (c("rank") < c("target"))))
    early = pl.when((beh == "on_time") & ~c("is_last")).then(rng.pick(key, 30, {0: 0.6, 1: 0.2, 2: 0.1, 3: 0.1})).otherwise(0)
    partial_amount = pl.when(c("principal") > 0).then(
        c("borrower_interest") + pl.max_horizontal(1, (c("principal") * c("partial_f")).floor().cast(pl.Int64))
    ).otherwise(pl.max_horizontal(1, (c("borrower_interest") * c("partial_f")).floor().cast(pl.Int64)))
    x = x.with_columns(
        full_on=pl.when(c("payable") & on_time_like).then(pl.max_horizontal(due - day(early), c("period_start")))
        .when(owes & (beh == "late") & (due + day(c("late_days")) <= today)).then(due + day(c("late_days"))),
        partial_on=pl.when(c("payable") & (beh == "partial") & (c("rank") == c("target"))).then(due),
        partial_amount=partial_amount,
    )
    full, part = c("full_on").is_not_null(), c("partial_on").is_not_null()
    late_paid = full & (beh == "late")
    unpaid = owes & (due < today) & ~full & (beh != "prepaid")
    base = pl.when(part).then(c("owed") - c("partial_amount")).otherwise(c("owed"))
    days = pl.when(late_paid).then(c("late_days") - 1).when(unpaid).then((pl.lit(today) - due).dt.total_days() - 1)
    x = x.with_columns(
        base=base, days=days.otherwise(0),
        accrual_date=pl.when(late_paid).then(c("full_on") - day(1)).otherwise(pl.lit(today) - day(1)),
        part_interest=pl.when(part).then(pl.min_horizontal(c("partial_amount"), c("borrower_interest"))).otherwise(0),
    ).with_columns(
        penalty_accrued=c("days") * half_up(c("base") * c("rate_u") * (10_000 + c("markup_u")), 360 * 10**10),
        paid_principal=pl.when(full).then(c("principal")).when(part).then(c("partial_amount") - c("part_interest"))
        .otherwise(0),
        paid_interest=pl.when(full).then(c("borrower_interest")).otherwise(c("part_interest")),
    ).with_columns(paid_penalty=pl.when(full).then(c("penalty_accrued")).otherwise(0),
                   cancelled_interest=pl.lit(0, pl.Int64), cancelled_subsidy=pl.lit(0, pl.Int64))

    paid = x.filter(full | part).with_columns(
        paid_on=pl.coalesce("full_on", "partial_on"), settles=full & c("is_last"),
        amount=c("paid_principal") + c("paid_interest") + c("paid_penalty"),
        reversed_on=pl.when((beh == "reversed") & (c("count2") > 0) & ~c("is_last")
                            & (c("rank2") == 1 + (c("reversal_u") * c("count2")).floor().cast(pl.Int64)))
        .then(pl.min_horizontal(pl.lit(today), due + day(rng.int(key, 31, 1, 3)))),
        minute=rng.int(key, 32, 9 * 60, 17 * 60),
    )
    prepaid = _prepayments(x.filter((beh == "prepaid") & (c("prepay_on") <= today)))
    deltas = ["paid_principal", "paid_interest", "cancelled_interest", "cancelled_subsidy"]
    if prepaid[1].height:
        sums = prepaid[1].group_by("loan", "seq").agg(pl.col(d).sum().alias(f"d_{d}") for d in deltas)
        x = x.join(sums, on=["loan", "seq"], how="left").with_columns(
            (c(d) + c(f"d_{d}").fill_null(0)).alias(d) for d in deltas)
    # Mistaken repayments, reversed a few days later; the correct one is posted after the reversal.
    mistaken = paid.filter(c("reversed_on").is_not_null())
    repayments = pl.concat([
        paid.select("loan", "seq", "amount", "paid_on", "settles",
                    created_at=pl.when(c("reversed_on").is_null()).then(at_time(c("paid_on"), c("minute")))
                    .otherwise(at_time(c("reversed_on"), pl.lit(630)))),
        mistaken.select("loan", "seq", "amount", "paid_on", settles=pl.lit(False),
                        created_at=at_time(c("paid_on"), pl.lit(570))),
        prepaid[0].select("loan", pl.lit(None, pl.Int64).alias("seq"), "amount", "paid_on", settles=pl.lit(True),
                          created_at=at_time(c("paid_on"), pl.lit(600))),
    ], how="vertical_relaxed").with_row_index("pos").with_columns(c("pos").cast(pl.Int64))
    # Ids (and bank references) follow creation time: rows in that order append to the indexes' right edge.
    repayments = repayments.sort("created_at").with_row_index("rep").with_columns(c("rep").cast(pl.Int64))
    positions = repayments.select("pos", "rep")
    n_paid, n_mistaken = paid.height, mistaken.height
    lines = ["penalty", "interest", "principal", "cancelled_interest", "cancelled_subsidy"]
    normal = paid.select("loan", "seq", penalty="paid_penalty", interest="paid_interest", principal="paid_principal",
                         cancelled_interest="cancelled_interest", cancelled_subsidy="cancelled_subsidy")
    allocations = pl.concat([
        normal.with_columns(pos=pl.int_range(0, pl.len(), dtype=pl.Int64)),
        normal.filter(paid["reversed_on"].is_not_null()).with_columns(
            pos=pl.int_range(n_paid, n_paid + pl.len(), dtype=pl.Int64)),
        prepaid[1].select("loan", "seq", *[c(f"paid_{d}" if d in ("interest", "principal") else d).alias(d)
                                           for d in lines if d != "penalty"], penalty=pl.lit(0, pl.Int64))
        .join(repayments.filter(c("seq").is_null()).select("loan", "pos"), on="loan"),
    ], how="diagonal_relaxed").join(positions, on="pos").select("rep", "loan", "seq", *lines).sort("rep")
    reversals = mistaken.select("loan", "reversed_on", created_at=at_time(c("reversed_on"), pl.lit(600))).with_columns(
        pos=pl.int_range(n_paid, n_paid + n_mistaken, dtype=pl.Int64)).join(positions, on="pos").drop("pos")

    left = ((c("principal") - c("paid_principal")) + (c("borrower_interest") - c("cancelled_interest") - c("paid_interest"))
            + (c("penalty_accrued") - c("paid_penalty")))
    installments = x.with_columns(status=pl.when(left <= 0).then(pl.lit("paid")).when(due < today).then(pl.lit("overdue"))
                                  .when(c("paid_principal") + c("paid_interest") + c("paid_penalty") > 0)
                                  .then(pl.lit("partial")).otherwise(pl.lit("pending")))
    settled = repayments.filter("settles").group_by("loan").agg(settled_on=c("paid_on").max())
    loan_state = (installments.group_by("loan").agg(paid=c("paid_principal").sum())
                  .join(loans.select("loan", "principal"), on="loan").join(settled, on="loan", how="left")
                  .select("loan", "settled_on", outstanding_principal=c("principal") - c("paid"),
                          status=pl.when(c("settled_on").is_not_null()).then(pl.lit("settled")).otherwise(pl.lit("active"))))
    penalties = x.filter(c("days") > 0).select(
        "loan", "seq", "accrual_date", "base", amount=c("penalty_accrued"))
    return History(installments, repayments, allocations, reversals, penalties, loan_state)


def _prepayments(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Settle each prepaying loan on its prepayment date through ``allocate`` itself (a few % of loans).
    Returns (repayments: loan, amount, paid_on) and (lines: loan, seq, paid_principal, paid_interest,
    cancelled_interest, cancelled_subsidy)."""
    by_loan: dict[int, list[dict[str, Any]]] = {}
    for row in rows.sort("loan", "seq").iter_rows(named=True):
        by_loan.setdefault(row["loan"], []).append(row)
    repayments, lines = [], []
    for loan, installments in by_loan.items():
        paid_on, share = installments[0]["prepay_on"], Decimal(installments[0]["subsidy_u"]) / 10_000
        states = [InstallmentState(
            r["seq"], r["period_start"], r["due_date"], r["principal"], r["interest"], r["subsidy_interest"],
            r["borrower_interest"], paid_principal=r["paid_principal"], paid_interest=r["paid_interest"],
        ) for r in installments]
        amount = payoff_amount(states, paid_on, share)
        allocation = allocate(states, amount, paid_on, share)
        assert allocation.settles, f"prepayment of loan {loan} does not settle it"
        repayments.append((loan, amount, paid_on))
        lines.extend((loan, line.seq, line.principal, line.interest, line.cancelled_interest, line.cancelled_subsidy)
                     for line in allocation.lines)
    return (
        pl.DataFrame(repayments, schema={"loan": pl.Int64, "amount": pl.Int64, "paid_on": pl.Date}, orient="row"),
        pl.DataFrame(lines, schema={"loan": pl.Int64, "seq": pl.Int64, "paid_principal": pl.Int64,
                                    "paid_interest": pl.Int64, "cancelled_interest": pl.Int64,
                                    "cancelled_subsidy": pl.Int64}, orient="row"),
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
        "loan", "borrower", "kind", "county", "county_code", "township_code", "village_code", "village_name",
        "county_name", "era", "bank", "bank_code", "project_type", "jobs_expected", "licence", "requested",
        "principal", "rate_u", "term", "method", "disbursed_on",
        application="loan", status=pl.lit("disbursed"), created_on=c("disbursed_on") - day(36 + rng.int(c("slot"), 40, 0, 10)),
    )
    e = pl.int_range(n, n + max(1, round(n * 0.12)), eager=True, dtype=pl.Int64).alias("application").to_frame()
    key = c("application") * 7 + 1
    pending = ["draft", "village_certified", "township_submitted", "county_recommended", "bank_approved"]
    extra = e.with_columns(
        status=rng.pick(key, 41, {"draft": 0.08, "village_certified": 0.06, "township_submitted": 0.08,
                                  "county_recommended": 0.08, "bank_approved": 0.05, "rejected": 0.25,
                                  "declined": 0.25, "withdrawn": 0.15}),
        village=(rng.u(key, 42) * ref.villages.height).floor().cast(pl.Int64), kind=pl.lit("individual"),
        bank=rng.pick(key, 43, {b: share for b, (_, _, share, _) in enumerate(BANKS)}),
        project_type=rng.pick(key, 44, PROJECT_WEIGHTS), jobs_expected=rng.int(key, 45, 1, 5),
        licence=rng.u(key, 46) < 0.15, term=rng.pick(key, 47, {12: 0.35, 24: 0.4, 36: 0.25}),
        method=rng.pick(key, 48, {m: w for m, w in METHODS.items() if m != "bullet"}),
        requested=rng.pick(key, 49, TIERS["individual"]).cast(pl.Int64) * 100,
    ).with_columns(
        created_on=pl.lit(today) - day(pl.when(c("status").is_in(pending)).then(rng.int(key, 50, 1, 60))
                                       .otherwise(rng.int(key, 50, 30, HISTORY_DAYS))),
        borrower=-1 - c("application"),  # a woman of her own, never a borrower
    ).with_columns(
        era=pl.when(c("created_on") >= ref.era2_from).then(2).otherwise(1),
        requested=pl.when(c("created_on") >= ref.era2_from).then(c("requested"))
        .otherwise(pl.min_horizontal("requested", 20_000_000)),
    ).join(ref.villages.select("village", "county", "county_code", "township_code", "village_code", "village_name",
                               "county_name"), on="village").join(ref.banks.select("county", "bank", "bank_code"),
                                                                 on=["county", "bank"])
    apps = pl.concat([loan_apps, extra.drop("village")], how="diagonal_relaxed").sort("application")

    # Applicants: a borrower registers before her first application; a partner with the partnership's.
    first = apps.filter(c("borrower") >= 0).group_by("borrower").agg(pl.all().sort_by("application").first())
    others = apps.filter(c("borrower") < 0)
    partners = apps.filter(c("kind") == "partnership").with_columns(borrower=-1 - c("application") - 10 * n)
    applicants = pl.concat([first, others, partners], how="diagonal_relaxed").select(
        "borrower", "county", "county_code", "township_code", "village_code", "village_name", "county_name",
        registered_on=c("created_on") - day(rng.int(c("borrower"), 51, 1, 20)),
    ).sort("registered_on", "borrower").with_row_index("applicant").with_columns(c("applicant").cast(pl.Int64))
    applicants = _identities(applicants, rng, existing_ids)
    ids = applicants.select("borrower", "applicant")
    apps = apps.join(ids, on="borrower", how="left")
    partner_ids = partners.select("application", borrower="borrower").join(ids, on="borrower")
    members = pl.concat([apps.select("application", "applicant"), partner_ids.select("application", "applicant")])
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
        + pl.when(rng.u(a, 62) < 0.7).then(given.gather(rng.int(a, 63, 0, len(GIVEN) - 1))).otherwise(pl.lit("")),
        phone=pl.format("1{}{}", rng.pick(a, 64, {"38": 1, "39": 1, "51": 1, "52": 1, "58": 1, "77": 1, "80": 1, "86": 1,
                                                  "89": 1, "99": 1}),
                        rng.int(a, 65, 0, 99_999_999).cast(pl.String).str.zfill(8)),
        birth_date=c("registered_on") - pl.duration(days=rng.int(a, 66, 21 * 365, 52 * 365)),
        categories=pl.concat_list(
            pl.when(c("village_name").str.ends_with("村")).then(pl.lit("rural")).otherwise(pl.lit("laid_off")),
            pl.when(rng.u(a, 67) < 0.15).then(pl.lit("registered_poor")), pl.when(rng.u(a, 68) < 0.12)
            .then(pl.lit("returning_migrant")), pl.when(rng.u(a, 69) < 0.08).then(pl.lit("graduate")),
            pl.when(rng.u(a, 70) < 0.02).then(pl.lit("disabled")), pl.when(rng.u(a, 71) < 0.01)
            .then(pl.lit("veteran_family"))).list.drop_nulls(),
    )
    taken = set(existing)
    ids = pl.Series("national_id", [None] * frame.height, dtype=pl.String)
    todo = pl.Series([True] * frame.height)
    for attempt in range(50):
        first17 = pl.concat_str(c("county_code").str.slice(0, 6), c("birth_date").dt.strftime("%Y%m%d"),
                                (rng.int(a, 80 + attempt, 0, 499) * 2).cast(pl.String).str.zfill(3))
        total = pl.sum_horizontal(first17.str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(_ID_WEIGHTS))
        fresh = frame.select(first17 + pl.lit(pl.Series(list("10X98765432"))).gather(total % 11)).to_series()
        ids = pl.select(pl.when(todo).then(fresh).otherwise(ids)).to_series()
        todo = ids.is_duplicated() & todo | ids.is_in(list(taken))
        if not todo.any():
            return frame.with_columns(national_id=ids)
    raise RuntimeError("could not draw unique resident IDs")


def follow_ups(loans: pl.DataFrame, state: pl.DataFrame, rng: Rng, today: date) -> pl.DataFrame:
    """贷后核查: a township officer visits two months after disbursement, then every half year while the loan runs."""
    c = pl.col
    visits = loans.join(state.select("loan", "settled_on"), on="loan").with_columns(
        first=c("disbursed_on") + pl.duration(days=60), end=pl.coalesce("settled_on", pl.lit(today)),
    ).with_columns(count=pl.min_horizontal(6, ((c("end") - c("first")).dt.total_days() // 180 + 1).clip(0)))
    visits = visits.filter(c("count") > 0).with_columns(v=pl.int_ranges(0, c("count"))).explode("v")
    key, beh = c("loan") * 8 + c("v"), c("behaviour")
    status = (pl.when(beh.is_in(["on_time", "reversed"])).then(rng.pick(key, 90, {"operating": 0.8, "expanding": 0.2}))
              .when(beh == "prepaid").then(rng.pick(key, 90, {"operating": 0.5, "expanding": 0.5}))
              .when(beh == "late").then(rng.pick(key, 90, {"operating": 0.6, "struggling": 0.4}))
              .when((beh == "never") & (c("v") > 0)).then(rng.pick(key, 90, {"struggling": 0.5, "closed": 0.5}))
              .otherwise(rng.pick(key, 90, {"operating": 0.3, "struggling": 0.7})))
    notes = {"operating": "经营正常，贷款资金按约定用途使用", "expanding": "扩大经营规模，新增带动就业",
             "struggling": "经营困难，销售下滑，已提醒按时还款", "closed": "已停止经营，正在协调还款"}
    return visits.with_columns(
        visited_on=c("first") + pl.duration(days=180 * c("v") + rng.int(key, 91, 0, 20)), business_status=status,
    ).filter(c("visited_on") <= c("end")).select(
        "loan", "visited_on", "business_status", "county_code", "township_code", "village_code", "bank_code",
        fund_use_as_agreed=rng.u(key, 92) < pl.when(beh == "never").then(0.7).otherwise(0.97),
        jobs_now=pl.when(c("business_status") == "closed").then(0)
        .when(c("business_status") == "expanding").then(c("jobs_expected") + rng.int(key, 93, 1, 3))
        .when(c("business_status") == "struggling").then(pl.max_horizontal(1, c("jobs_expected") - 1))
        .otherwise(c("jobs_expected")),
        risk_level=pl.col("business_status").replace_strict(
            {"operating": "low", "expanding": "low", "struggling": "medium", "closed": "high"}),
        notes=c("business_status").replace_strict(notes),
        created_at=at_time(c("visited_on"), 16 * 60 + rng.int(key, 94, 0, 90)),
    )


# --- writing: reference rows by INSERT .. ON CONFLICT DO NOTHING, everything else by binary COPY --------

_CREDIT = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_OPINION = "经审核，申请人符合创业担保贷款条件，村级证明齐全，项目真实可行，同意推荐。"


@dataclass
class LoadSummary:
    loans: int = 0
    live_loans: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    behaviours: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    loan_ids: list[Any] = field(default_factory=list)


async def load(
    target: AsyncEngine | AsyncConnection, n_loans: int, counties: int = 10, seed: int = 2026,
    today: date | None = None, progress: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Generate ``n_loans`` loans over ``counties`` counties and COPY them in, in one transaction; then
    refresh their delinquency as of ``today`` (Asia/Shanghai by default) and ANALYZE."""
    if isinstance(target, AsyncEngine):
        async with target.connect() as connection:
            return await load(connection, n_loans, counties, seed, today, progress)
    today = today or datetime.now(SHANGHAI).date()
    say = progress or (lambda _message: None)
    summary, clock = LoadSummary(), _Stopwatch()
    rng, ref = Rng(seed), reference(counties, today)
    connection = target
    await connection.execute(text("SELECT 1"))  # begins the transaction the raw connection works in
    raw = (await connection.get_raw_connection()).driver_connection
    products, funds = await _reference_rows(raw, ref, today)
    county_codes = [prefix + "000000" for prefix, _, _ in ref.counties]
    bank_codes = ref.banks["bank_code"].to_list()
    loan_base = await raw.fetchval("SELECT count(*) FROM loan WHERE bank_code = ANY($1)", bank_codes)
    repayment_base = await raw.fetchval("SELECT count(*) FROM repayment WHERE bank_code = ANY($1)", bank_codes)
    existing = await raw.fetch("SELECT national_id FROM applicant WHERE county_code = ANY($1)", county_codes)
    loans = plan_loans(ref, n_loans, rng, today)
    who = people(ref, loans, rng, today, (r[0] for r in existing))
    loans = loans.with_columns(applicant=who["applications"]["applicant"].head(loans.height))
    summary.seconds["generate"] = clock.lap()
    say(f"planned {loans.height:,} loans, {who['applicants'].height:,} applicants ({summary.seconds['generate']:.1f} s)")

    ids = {name: _uuids(frame["created_at"]) for name, frame in (
        ("applicant", who["applicants"].with_columns(created_at=at_time(pl.col("registered_on"), 600))),
        ("application", who["applications"].with_columns(created_at=at_time(pl.col("created_on"), 570))),
        ("loan", loans.with_columns(created_at=at_time(pl.col("disbursed_on"), 600 + pl.col("minute")))),
    )}
    summary.loan_ids = ids["loan"]
    decimals = {v: Decimal(v) / 10**6 for v in loans["rate_u"].unique()} | {0: None}
    shares = {v: Decimal(v) / 10**4 for v in (5000, 10000)}
    copy = _Copier(raw, summary.rows)
    await copy.fast_codecs(True)
    replica = await raw.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if replica:  # the rows are consistent by construction: skip the per-row foreign key triggers
        await raw.execute("SET LOCAL session_replication_role = replica")
    await copy("applicant", _applicants(who["applicants"]), id=ids["applicant"])
    await copy("training", _trainings(who["trainings"], ref), applicant_id=ids["applicant"])
    await copy("application", _applications(who["applications"], ref, rng), id=ids["application"],
               applicant_id=ids["applicant"], product_id=products, guarantee_fund_id=funds, approved_rate=decimals)
    await copy("application_member", who["members"].select(application_id="application", applicant_id="applicant"),
               application_id=ids["application"], applicant_id=ids["applicant"])
    summary.seconds["people"] = clock.lap()
    say(f"applicants and applications written ({summary.seconds['people']:.1f} s)")

    repayment_serial = repayment_base
    starts = list(range(0, loans.height, CHUNK_LOANS))
    chunks = [loans.slice(start, CHUNK_LOANS) for start in starts]
    # polars works on the next chunk in a thread (it releases the GIL) while this one is COPYed
    upcoming = asyncio.create_task(asyncio.to_thread(history, chunks[0], rng, today))
    for index, (start, chunk) in enumerate(zip(starts, chunks, strict=True)):
        story = await upcoming
        if index + 1 < len(chunks):
            upcoming = asyncio.create_task(asyncio.to_thread(history, chunks[index + 1], rng, today))
        await copy("loan", _loans(chunk, story.loans, loan_base), id=ids["loan"], application_id=ids["application"],
                   applicant_id=ids["applicant"], product_id=products, guarantee_fund_id=funds,
                   annual_rate=decimals, subsidy_share=shares, penalty_markup={5000: Decimal("0.5")})
        await copy("installment", story.installments.select(
            "seq", "period_start", "due_date", "principal", "interest", "subsidy_interest", "borrower_interest",
            "paid_principal", "paid_interest", "paid_penalty", "penalty_accrued", "cancelled_interest",
            "cancelled_subsidy", "status", loan_id="loan"), loan_id=ids["loan"])
        repayment_ids = _uuids(story.repayments["created_at"])
        await copy("repayment", story.repayments.join(chunk.select("loan", "bank_code"), on="loan", how="left").select(
            "bank_code", "amount", "paid_on", "settles", "created_at", id="rep", loan_id="loan",
            bank_txn_ref=pl.format("HK{}{}", pl.col("paid_on").dt.strftime("%Y%m%d"),
                                   (pl.col("rep") + repayment_serial).cast(pl.String).str.zfill(10)),
            source=pl.lit("api"), updated_at="created_at"), id=repayment_ids, loan_id=ids["loan"])
        repayment_serial += story.repayments.height
        await copy("repayment_allocation", story.allocations.select(
            "seq", "penalty", "interest", "principal", "cancelled_interest", "cancelled_subsidy",
            repayment_id="rep", loan_id="loan"), repayment_id=repayment_ids, loan_id=ids["loan"])
        reversal_ids = _uuids(story.reversals["created_at"])
        await copy("repayment_reversal", story.reversals.with_row_index("id").select(
            pl.col("id").cast(pl.Int64), "reversed_on", "created_at", repayment_id="rep", loan_id="loan",
            reason=pl.lit("入账金额重复，冲正后重新入账"), updated_at="created_at"),
            id=reversal_ids, repayment_id=repayment_ids, loan_id=ids["loan"])
        await copy("penalty_accrual", story.penalties.rename({"loan": "loan_id"}), loan_id=ids["loan"])
        visits = follow_ups(chunk, story.loans, rng, today).sort("created_at")
        await copy("follow_up", visits.with_row_index("id").with_columns(pl.col("id").cast(pl.Int64)).rename(
            {"loan": "loan_id"}).with_columns(updated_at="created_at"),
            id=_uuids(visits["created_at"]), loan_id=ids["loan"])
        for name, value in story.loans["status"].value_counts().iter_rows():
            summary.statuses[name] = summary.statuses.get(name, 0) + value
        say(f"loans {start + chunk.height:,}/{loans.height:,} written ({clock.total():.1f} s)")
    summary.seconds["loans"] = clock.lap()

    if replica:
        await raw.execute("SET LOCAL session_replication_role = origin")
    await copy.fast_codecs(False)
    await _funds_and_targets(raw, ref, loans, funds, today, loan_base)
    live = await _close_books(connection, raw, ids["loan"], today)
    await connection.commit()
    summary.seconds["refresh"] = clock.lap()
    say(f"delinquency refreshed as of {today} for {live:,} live loans ({summary.seconds['refresh']:.1f} s)")
    await raw.execute("VACUUM (ANALYZE) applicant, application, application_member, training, loan, installment, "
                      "repayment, repayment_allocation, repayment_reversal, penalty_accrual, follow_up, fund_entry")
    summary.seconds["analyze"] = clock.lap()
    summary.seconds["total"] = clock.total()
    summary.loans, summary.live_loans = loans.height, live
    summary.behaviours = dict(loans["behaviour"].value_counts().iter_rows())
    say(f"loaded {loans.height:,} loans in {summary.seconds['total']:.1f} s")
    return summary


class _Stopwatch:
    def __init__(self) -> None:
        self.start = self.last = datetime.now(UTC)

    def lap(self) -> float:
        now = datetime.now(UTC)
        seconds, self.last = (now - self.last).total_seconds(), now
        return seconds

    def total(self) -> float:
        return (datetime.now(UTC) - self.start).total_seconds()


def _uuids(timestamps: pl.Series) -> list[Any]:
    """UUIDv7 ids whose time part is the row's own creation time, so ids sort the way rows were made."""
    return [uuid7(nanoseconds=ns) for ns in timestamps.dt.epoch("ns").to_list()]


class _Copier:
    """``await copy(table, frame, column=lookup, ...)``: binary COPY of ``frame``; a column given a lookup (a list
    of ids, a dict) holds keys into it. Dates and timestamps travel as integers (asyncpg's tuple format, set up
    by ``fast_codecs``): encoding a million datetime objects costs over a second, integers a tenth of that."""

    def __init__(self, connection: Any, counts: dict[str, int]) -> None:
        self.connection, self.counts = connection, counts

    async def __call__(self, table: str, frame: pl.DataFrame, **lookups: Any) -> None:
        if not frame.height:
            return
        dates = [n for n, t in frame.schema.items() if t == pl.Date]
        stamps = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime)]
        frame = frame.with_columns([(pl.col(n).cast(pl.Int32) - _PG_EPOCH_DAYS).alias(n) for n in dates]
                                   + [(pl.col(n).dt.epoch("us") - _PG_EPOCH_US).alias(n) for n in stamps])
        records = self._records(frame, lookups, {*dates, *stamps})
        await self.connection.copy_records_to_table(table, records=records, columns=frame.columns)
        self.counts[table] = self.counts.get(table, 0) + frame.height

    async def fast_codecs(self, on: bool) -> None:
        for name in ("date", "timestamptz"):
            if on:
                await self.connection.set_type_codec(name, schema="pg_catalog", encoder=_identity,
                                                     decoder=_identity, format="tuple")
            else:
                await self.connection.reset_type_codec(name, schema="pg_catalog")

    @staticmethod
    def _records(frame: pl.DataFrame, lookups: dict[str, Any], temporal: set[str]) -> Iterator[tuple[Any, ...]]:
        for start in range(0, frame.height, 100_000):
            part, columns = frame.slice(start, 100_000), []
            for name in frame.columns:
                values = part[name].to_list()
                if name in lookups:
                    lookup = lookups[name]
                    values = [None if v is None else lookup[v] for v in values]
                elif name in temporal:
                    values = [None if v is None else (v,) for v in values]
                columns.append(values)
            yield from zip(*columns, strict=True)


_PG_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's epoch, in days since 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400_000_000


def _identity(value: Any) -> Any:
    return value


async def _reference_rows(raw: Any, ref: Reference, today: date) -> tuple[dict[int, Any], dict[int, Any]]:
    """Regions, banks, products and guarantee funds, skipping those already there (they are shared by loads).
    Returns product ids by ``county * 2 + era - 1`` and fund ids by ``county * 3 + bank``."""
    now = datetime.now(UTC)
    await raw.executemany(
        "INSERT INTO region (code, name, level, parent_code, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) "
        "ON CONFLICT DO NOTHING", [(*row, now) for row in ref.regions.iter_rows()])
    await raw.executemany(
        "INSERT INTO bank (code, name, county_code, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) "
        "ON CONFLICT DO NOTHING",
        [(code, name, ref.counties[c][0] + "000000", now) for c, _, code, name, _, _ in ref.banks.iter_rows()])
    products, era1_from = [], date(ref.era2_from.year - 6, 1, 1)
    for c, (prefix, name, _) in enumerate(ref.counties):
        for era, (start, end, cap, share, rate) in enumerate(
            ((era1_from, ref.era2_from - timedelta(days=1), 20_000_000, "1", "0.0600"),
             (ref.era2_from, None, 30_000_000, "0.5", "0.0500")), start=1):
            products.append((uuid7(), ref.product_code(c, era), prefix + "000000", f"{name}创业担保贷款（妇女，{start.year}版）",
                             cap, 110_000_000, 400_000_000, 100_000_000, 36, list(METHODS), Decimal(rate),
                             Decimal(share), Decimal("0.5"), "fund", 3, False, start, end, now))
    await raw.executemany(
        "INSERT INTO loan_product (id, code, county_code, name, max_amount_individual, max_amount_partnership, "
        "max_amount_enterprise, max_amount_cooperative, max_term_months, repayment_methods, max_annual_rate, "
        "subsidy_share, penalty_markup, guarantee_mode, max_borrowings, requires_training, effective_from, "
        "effective_to, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
        "$15, $16, $17, $18, $19, $19) ON CONFLICT DO NOTHING", products)
    codes = {code: key for key, code in enumerate(p[1] for p in products)}
    product_ids = {codes[code]: id_ for code, id_ in await raw.fetch(
        "SELECT code, id FROM loan_product WHERE code = ANY($1)", list(codes))}
    fund_ids = {}
    for c, b, code, name, _, leverage in ref.banks.iter_rows():
        fund_name = f"{ref.counties[c][1]}创业担保贷款担保基金（{name}）"
        county_code = ref.counties[c][0] + "000000"
        fund_id = await raw.fetchval("SELECT id FROM guarantee_fund WHERE county_code = $1 AND bank_code = $2 AND "
                                     "name = $3", county_code, code, fund_name)
        if fund_id is None:
            fund_id = uuid7()
            await raw.execute(
                "INSERT INTO guarantee_fund (id, county_code, bank_code, name, leverage, compensation_after_days, "
                "compensation_share, risk_threshold, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 90, $6, "
                "0.05, $7, $7)", fund_id, county_code, code, fund_name, Decimal(leverage),
                Decimal("0.8") if code.startswith("RCC") else Decimal(1), now)
        fund_ids[c * 3 + b] = fund_id
    return product_ids, fund_ids


def _applicants(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("national_id", "name", "phone", "birth_date", "county_code", "township_code", "village_code",
                        "categories", applicant_id="applicant", created_at=at_time(pl.col("registered_on"), 600),
                        updated_at=at_time(pl.col("registered_on"), 600)).rename({"applicant_id": "id"})


def _trainings(frame: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    c = pl.col
    titles = {"syb": "巾帼创业SYB培训班", "iyb": "妇女创业IYB改善你的企业培训班", "ecommerce": "巾帼电商直播带货培训班",
              "skills": "巾帼家政服务技能培训班"}
    days = {"syb": 10, "iyb": 8, "ecommerce": 5, "skills": 7}
    return frame.with_row_index("n").select(
        "course", "started_on", applicant_id="applicant",
        title=c("course").replace_strict(titles),
        provider=c("county_name") + pl.when(c("course").is_in(["syb", "iyb"])).then(pl.lit("人力资源和社会保障局"))
        .otherwise(pl.lit("妇女联合会")),
        finished_on=c("started_on") + pl.duration(days=c("course").replace_strict(days) - 1),
        certificate_no=pl.when(c("course").is_in(["syb", "iyb"])).then(pl.format(
            "{}{}{}{}", c("course").str.to_uppercase(), c("county_code").str.slice(0, 6),
            c("started_on").dt.strftime("%Y%m"), c("n").cast(pl.String).str.zfill(6))),
        created_at=at_time(c("registered_on"), 660), updated_at=at_time(c("registered_on"), 660),
    ).with_columns(id=pl.Series([uuid7() for _ in range(frame.height)], dtype=pl.Object))


def _applications(frame: pl.DataFrame, ref: Reference, rng: Rng) -> pl.DataFrame:
    c, a = pl.col, pl.col("application")
    status, kind = c("status"), c("kind")
    certified = ~c("licence") & ~status.is_in(["draft", "withdrawn"])
    recommended = status.is_in(["county_recommended", "bank_approved", "declined", "disbursed"])
    approved = status.is_in(["bank_approved", "disbursed"])
    decided_on = pl.when(status == "disbursed").then(c("disbursed_on") - pl.duration(days=5)) \
        .otherwise(c("created_on") + pl.duration(days=31))
    code_kind = pl.when(kind == "cooperative").then(pl.lit("93")).when(kind == "enterprise").then(pl.lit("91")) \
        .otherwise(pl.lit("92"))
    chars = [rng.int(a, 100 + j, 0, 30) for j in range(7)]
    body = pl.concat_str(code_kind, c("county_code").str.slice(0, 6), pl.lit("MA"),
                         *[pl.lit(pl.Series(list(_CREDIT))).gather(ch) for ch in chars])
    total = pl.sum_horizontal(*[body.str.slice(i, 1).cast(pl.Int64) * _CREDIT_WEIGHTS[i] for i in range(8)],
                              pl.lit(_CREDIT.index("M") * _CREDIT_WEIGHTS[8] + _CREDIT.index("A") * _CREDIT_WEIGHTS[9]),
                              *[ch * _CREDIT_WEIGHTS[10 + j] for j, ch in enumerate(chars)])
    credit = body + pl.lit(pl.Series(list(_CREDIT))).gather((31 - total % 31) % 31)
    place = c("village_name").str.replace(r"(村|社区)$", "")
    return frame.select(
        "project_type", "jobs_expected", "county_code", "township_code", "village_code", "bank_code", "status",
        id=a, applicant_id="applicant", product_id=c("county") * 2 + c("era") - 1, borrower_kind=kind,
        enterprise_name=pl.when(kind == "cooperative").then(c("county_name") + place + "巾帼种养专业合作社")
        .when(kind == "enterprise").then(place + "巾帼农产品有限公司"),
        credit_code=pl.when(kind.is_in(["cooperative", "enterprise"])).then(credit),
        amount_requested="requested", term_months="term", repayment_method="method", has_business_licence="licence",
        business_licence_no=pl.when(c("licence")).then(credit), guarantee_fund_id=c("county") * 3 + c("bank"),
        project_description=c("project_type").replace_strict(PROJECTS),
        project_investment=(c("requested") * (1.3 + 0.7 * rng.u(a, 110)) / 100).floor().cast(pl.Int64) * 100,
        village_certificate_no=pl.when(certified).then(pl.format("{}证字〔{}〕{}号", c("village_name"),
                                                                  c("created_on").dt.year(), a.cast(pl.String))),
        village_committee=pl.when(certified).then(c("village_name") + "妇代会"),
        village_certified_on=pl.when(certified).then(c("created_on") + pl.duration(days=6)),
        county_opinion=pl.when(recommended).then(pl.lit(_OPINION))
        .when(status == "rejected").then(pl.lit("项目不属于创业担保贷款扶持范围，不予推荐")),
        approved_amount=pl.when(status == "disbursed").then(c("principal")).when(approved).then(c("requested")),
        approved_rate=pl.when(approved).then(pl.coalesce(c("rate_u"), pl.lit(43500))),
        approved_term_months=pl.when(approved).then(c("term")),
        approved_method=pl.when(approved).then(c("method")),
        decision_reason=pl.when(status == "declined").then(pl.lit("征信报告显示近两年有多次逾期记录，暂不予授信")),
        decided_at=pl.when(approved | (status == "declined")).then(at_time(decided_on, 900)),
        created_at=at_time(c("created_on"), 570), updated_at=at_time(c("created_on"), 570),
    )


def _loans(chunk: pl.DataFrame, state: pl.DataFrame, serial_base: int) -> pl.DataFrame:
    c = pl.col
    serial = (c("loan") + serial_base).cast(pl.String)
    created = at_time(c("disbursed_on"), 600 + c("minute"))
    return chunk.join(state, on="loan").select(
        "bank_code", "county_code", "township_code", "village_code", "disbursed_on", "principal", "status",
        "outstanding_principal", "settled_on",
        id="loan", application_id="loan", applicant_id="applicant", product_id=c("county") * 2 + c("era") - 1,
        guarantee_fund_id=c("county") * 3 + c("bank"),
        contract_no=pl.format("{}-{}-{}", c("bank_code"), c("disbursed_on").dt.year(), serial.str.zfill(7)),
        bank_txn_ref=pl.format("FK{}{}", c("disbursed_on").dt.strftime("%Y%m%d"), serial.str.zfill(9)),
        annual_rate="rate_u", term_months="term", repayment_method="method", subsidy_share="subsidy_u",
        penalty_markup="markup_u", guarantee_mode=pl.lit("fund"), maturity_date="maturity",
        days_past_due=pl.lit(0), bucket=pl.lit("current"), five_class=pl.lit("normal"),
        overdue_principal=pl.lit(0, pl.Int64), penalty_outstanding=pl.lit(0, pl.Int64),
        compensated_amount=pl.lit(0, pl.Int64), recovered_amount=pl.lit(0, pl.Int64),
        created_at=created, updated_at=created,
    )


async def _funds_and_targets(
    raw: Any, ref: Reference, loans: pl.DataFrame, funds: dict[int, Any], today: date, tag: int
) -> None:
    """Yearly deposits that keep each fund's capacity above what it guarantees; the counties' lending targets."""
    now, c = datetime.now(UTC), pl.col
    yearly = loans.group_by("county", "bank", year=c("disbursed_on").dt.year()).agg(c("principal").sum())
    banks = {(county, bank): (code, leverage) for county, bank, code, _, _, leverage in ref.banks.iter_rows()}
    deposits = []
    for county, bank, year, principal in yearly.sort("county", "bank", "year").iter_rows():
        code, leverage = banks[(county, bank)]
        amount = max(500_000_00, -(-principal // int(leverage) // 100_000_000) * 100_000_000)
        deposits.append((uuid7(), funds[county * 3 + bank], amount, date(year - 1, 12, 20),
                         f"{code}-DBJJ-{year}-L{tag}", now))
    await raw.executemany(
        "INSERT INTO fund_entry (id, fund_id, kind, amount, occurred_on, reference, created_at, updated_at) "
        "VALUES ($1, $2, 'deposit', $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING", deposits)
    targets = loans.group_by("county_code", year=c("disbursed_on").dt.year()).agg(c("principal").sum())
    await raw.executemany(
        "INSERT INTO lending_target (county_code, year, amount, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) "
        "ON CONFLICT DO NOTHING",
        [(code, year, -(-principal * 11 // 10 // 10_000_000) * 10_000_000, now)
         for code, year, principal in targets.iter_rows()])


async def _close_books(connection: AsyncConnection, raw: Any, loan_ids: list[Any], today: date) -> int:
    """Yesterday is closed (penalty was accrued through it); DPD and the rest as of today, as a posting sets them."""
    await raw.execute(
        "INSERT INTO business_day (business_date, status, loans_processed, overdue_loans, penalty_accrued, reminders,"
        " started_at, finished_at) SELECT $1, 'done', 0, 0, 0, 0, now(), now() WHERE NOT EXISTS "
        "(SELECT FROM business_day WHERE business_date >= $1 AND status = 'done')", today - timedelta(days=1))
    live = 0
    session = AsyncSession(bind=connection)
    ordered = sorted(loan_ids)
    for start in range(0, len(ordered), REFRESH_BATCH):
        batch = ordered[start:start + REFRESH_BATCH]
        live += await refresh_loan_range(session, batch[0], batch[-1], today)
    await raw.execute(
        "UPDATE loan l SET claimable_since = $1::date - l.days_past_due + f.compensation_after_days FROM guarantee_fund f "
        "WHERE f.id = l.guarantee_fund_id AND l.status IN ('active', 'overdue') AND l.id BETWEEN $2 AND $3 "
        "AND l.days_past_due >= f.compensation_after_days", today, ordered[0], ordered[-1])
    return live
