"""The portfolio to generate: regions, banks, borrowers (who may borrow again once repaid), loan terms and how
each loan behaves; the women, their applications and trainings; the post-loan visits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from loans.bulk.frames import Rng
from loans.lending.schedule_frame import add_months

HISTORY_DAYS = 6 * 365
BEHAVIOURS = {
    "on_time": 0.75,
    "late": 0.10,
    "partial": 0.05,
    "never": 0.05,
    "prepaid": 0.03,
    "reversed": 0.02,
}
KINDS = {"individual": 0.87, "partnership": 0.07, "cooperative": 0.04, "enterprise": 0.02}
METHODS = {
    "quarterly_interest_bullet": 0.45,
    "monthly_interest_bullet": 0.2,
    "equal_installment": 0.12,
    "equal_principal": 0.1,
    "bullet": 0.13,
}
TIERS = {  # yuan, per borrower kind
    "individual": {
        30_000: 0.08,
        50_000: 0.22,
        80_000: 0.12,
        100_000: 0.25,
        150_000: 0.13,
        200_000: 0.12,
        300_000: 0.08,
    },
    "partnership": {200_000: 0.3, 300_000: 0.3, 500_000: 0.25, 800_000: 0.15},
    "cooperative": {200_000: 0.3, 300_000: 0.3, 500_000: 0.25, 1_000_000: 0.15},
    "enterprise": {500_000: 0.4, 1_000_000: 0.35, 2_000_000: 0.15, 3_000_000: 0.1},
}
PROJECTS = {
    "planting": "种植高原夏菜、中药材，订单销售",
    "breeding": "养殖牛羊，新建标准化圈舍",
    "processing": "农产品加工坊，供应超市食堂",
    "ecommerce": "电商直播销售本地土特产",
    "handicraft": "手工刺绣编织，带动妇女居家就业",
    "services": "社区便民服务：家政、餐饮、美发",
    "agritourism": "农家乐与采摘园",
    "other": "其他创业项目",
}
PROJECT_WEIGHTS = {
    "planting": 0.22,
    "breeding": 0.22,
    "processing": 0.1,
    "ecommerce": 0.12,
    "handicraft": 0.08,
    "services": 0.16,
    "agritourism": 0.06,
    "other": 0.04,
}
# 青海省 counties (统计用区划代码, first six digits): never the codes the tests or the demo county use.
COUNTIES = [
    ("630102", "城东区", "西宁市"),
    ("630103", "城中区", "西宁市"),
    ("630104", "城西区", "西宁市"),
    ("630105", "城北区", "西宁市"),
    ("630106", "湟中区", "西宁市"),
    ("630121", "大通回族土族自治县", "西宁市"),
    ("630123", "湟源县", "西宁市"),
    ("630202", "乐都区", "海东市"),
    ("630203", "平安区", "海东市"),
    ("630222", "民和回族土族自治县", "海东市"),
    ("630223", "互助土族自治县", "海东市"),
    ("630224", "化隆回族自治县", "海东市"),
    ("630225", "循化撒拉族自治县", "海东市"),
    ("632221", "门源回族自治县", "海北州"),
    ("632222", "祁连县", "海北州"),
    ("632223", "海晏县", "海北州"),
    ("632224", "刚察县", "海北州"),
    ("632322", "尖扎县", "黄南州"),
    ("632521", "共和县", "海南州"),
    ("632522", "同德县", "海南州"),
    ("632523", "贵德县", "海南州"),
    ("632524", "兴海县", "海南州"),
    ("632525", "贵南县", "海南州"),
    ("632801", "格尔木市", "海西州"),
    ("632802", "德令哈市", "海西州"),
    ("632821", "乌兰县", "海西州"),
    ("632822", "都兰县", "海西州"),
]
PLACES = [
    "东川",
    "西河",
    "南山",
    "北塬",
    "清泉",
    "柳湾",
    "石峡",
    "红崖",
    "金沙",
    "青石",
    "马营",
    "杨家",
    "李家",
    "新庄",
    "古城",
    "塔尔",
    "黄河",
    "白马",
    "双树",
    "高庙",
    "三合",
    "大寺",
    "上五",
    "下寨",
    "沙塘",
    "河阴",
    "峡口",
    "多巴",
    "拦隆",
    "甘河",
    "丹麻",
    "威远",
    "哈拉",
    "巴燕",
    "群科",
    "加定",
    "塘川",
    "五十",
    "蔡家",
    "鲁沙",
]
SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = list("秀英玉兰桂芳梅霞丽娟红燕敏静婷雪慧巧珍凤琴花云春晓彩金银月淑华萍翠荣兰娥芬莲丹")
BANKS = (
    ("ABC", "中国农业银行{}支行", 0.5, "5"),
    ("RCC", "{}农村商业银行", 0.35, "8"),
    ("PSBC", "中国邮政储蓄银行{}支行", 0.15, "5"),
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


# --- reference rows: regions, banks, products, funds ---------------------------------------------------


@dataclass
class Reference:
    regions: pl.DataFrame  # code, name, level, parent_code
    villages: pl.DataFrame  # village (global index), county (index), county/township/village codes, names
    banks: pl.DataFrame  # county, bank (index), bank_code, name, leverage, share
    counties: list[tuple[str, str, str]]  # (six-digit prefix, name, city)
    era2_from: date  # loans disbursed from this date are signed under the newer product

    def product_code(self, county: int, era: int) -> str:
        return (
            f"{self.counties[county][0]}-CYDB-{self.era2_from.year if era == 2 else self.era2_from.year - 6}"
        )


def placed(frame: pl.DataFrame, ref: Reference) -> pl.DataFrame:
    """``frame`` (with ``village`` and ``bank`` numbers) with its region codes and names and its bank code."""
    villages = ref.villages.select(
        "village", "county", "county_code", "township_code", "village_code", "village_name", "county_name"
    )
    return frame.join(villages, on="village").join(
        ref.banks.select("county", "bank", "bank_code"), on=["county", "bank"]
    )


def reference(n_counties: int, today: date) -> Reference:
    counties = [
        COUNTIES[c] if c < len(COUNTIES) else (f"639{c:03d}", f"巾帼示范{c}县", "海西州")
        for c in range(n_counties)
    ]
    regions, villages = [], []
    for c, (prefix, county_name, _city) in enumerate(counties):
        county_code = prefix + "000000"
        regions.append((county_code, county_name, "county", None))
        for t in range(8 + (3 * c) % 5):
            street = t < 2
            township_code = f"{prefix}{(t + 1) if street else 98 + t:03d}000"
            regions.append(
                (
                    township_code,
                    PLACES[(7 * c + t) % len(PLACES)] + ("街道" if street else "镇"),
                    "township",
                    county_code,
                )
            )
            for v in range(8 + (c + t) % 5):
                code = f"{township_code[:9]}{(v + 1) if street else 201 + v:03d}"
                name = PLACES[(13 * c + 7 * t + v + 3) % len(PLACES)] + ("社区" if street else "村")
                regions.append((code, name, "village", township_code))
                villages.append((len(villages), c, county_code, township_code, code, name, county_name))
    banks = [
        (c, b, f"{short}-{prefix}", name.format(county_name.removesuffix("回族土族自治县")), share, leverage)
        for c, (prefix, county_name, _) in enumerate(counties)
        for b, (short, name, share, leverage) in enumerate(BANKS)
    ]
    return Reference(
        regions=pl.DataFrame(regions, schema=["code", "name", "level", "parent_code"], orient="row"),
        villages=pl.DataFrame(
            villages,
            schema=[
                "village",
                "county",
                "county_code",
                "township_code",
                "village_code",
                "village_name",
                "county_name",
            ],
            orient="row",
        ),
        banks=pl.DataFrame(
            banks, schema=["county", "bank", "bank_code", "name", "share", "leverage"], orient="row"
        ),
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
            rate_u=pl.when(era2)
            .then(rng.pick(s, 11, {34500: 0.25, 36500: 0.35, 39500: 0.25, 43500: 0.15}))
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
            yuan=pl.when((kind == "individual") & ~era2)
            .then(pl.min_horizontal("yuan", 200_000))
            .otherwise("yuan"),
            licence=pl.col("licence") | kind.is_in(["cooperative", "enterprise"]),
            jobs_expected=pl.when(kind == "individual")
            .then(rng.int(s, 13, 1, 5))
            .when(kind == "partnership")
            .then(rng.int(s, 13, 3, 8))
            .otherwise(rng.int(s, 13, 8, 30)),
        )
        .with_columns(
            principal=pl.col("yuan") * 100,
            requested=(
                pl.col("yuan") + pl.when(rng.u(s, 14) < 0.1).then(rng.int(s, 15, 1, 5) * 10_000).otherwise(0)
            )
            * 100,
            maturity=add_months(pl.col("disbursed_on"), pl.col("term")),
        )
        .pipe(placed, ref)
        .sort("disbursed_on", "slot")
        .with_row_index("loan")
        .with_columns(pl.col("loan").cast(pl.Int64))
    )
    return loans.with_columns(
        prepay_on=pl.when(pl.col("behaviour") == "prepaid").then(
            pl.col("disbursed_on")
            + pl.duration(
                days=(pl.col("prepay_f") * (pl.col("maturity") - pl.col("disbursed_on")).dt.total_days())
                .floor()
                .cast(pl.Int64)
            )
        )
    )


def _chains(rng: Rng, first: int, n: int, today: date) -> pl.DataFrame:
    """Borrowers with one to three loans in a row, each disbursed some weeks after the last one matured."""
    b = pl.col("borrower")
    borrowers = pl.DataFrame({"borrower": pl.int_range(first, first + n, eager=True, dtype=pl.Int64)})
    slots = (
        borrowers.with_columns(loans=rng.pick(b, 1, {1: 0.86, 2: 0.11, 3: 0.03}))
        .with_columns(k=pl.int_ranges(1, pl.col("loans") + 1))
        .explode("k")
        .with_columns(slot=b * 4 + pl.col("k"))
        .with_columns(method=rng.pick(pl.col("slot"), 2, METHODS))
        .with_columns(
            term=pl.when(pl.col("method") == "bullet")
            .then(12)
            .otherwise(rng.pick(pl.col("slot"), 3, {12: 0.35, 24: 0.4, 36: 0.25})),
            gap=rng.int(pl.col("slot"), 4, 30, 180),
        )
    )
    days_ago = 1 + (HISTORY_DAYS * (1 - rng.u(b, 5).sqrt())).floor().cast(pl.Int64)
    done, previous = [], None
    for k in (1, 2, 3):
        step = slots.filter(pl.col("k") == k)
        if previous is None:
            step = step.with_columns(disbursed_on=pl.lit(today) - pl.duration(days=days_ago))
        else:
            step = (
                step.join(previous, on="borrower")
                .with_columns(disbursed_on=pl.col("previous_maturity") + pl.duration(days=pl.col("gap")))
                .drop("previous_maturity")
            )
        step = step.filter(pl.col("disbursed_on") < today)
        done.append(step.drop("loans", "gap"))
        previous = step.select(
            "borrower", previous_maturity=add_months(pl.col("disbursed_on"), pl.col("term"))
        )
    return pl.concat(done)
