"""Chinese labels for what the report builders emit: columns, tables, sheets and coded values (over 400 lines:
most of it is the label tables themselves).

`column_label(column, table=None, ratios=None)`  the header of a column ("principal_due" →
                                                 "应还本金（元）"); an unknown column is its own name
`table_label(table)`                             a table's / sheet's name ("overdue" → "逾期清单")
`value_label(column, value)`                     a coded value in Chinese ("five_class", "loss" →
                                                 "损失"); values of other columns unchanged
`headline_label(key)`                            a headline figure of the county risk report
`flag_level(code)`                               "red" | "orange" for a county risk flag code
`region_name(regions, code)`                     a region's name from the REGIONS frame, or None

Money columns carry （元） in their label: every renderer writes amounts in yuan.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from reports.builders.county_risk import COUNTY_RISK_TABLES

# --- columns --------------------------------------------------------------------------------

COLUMN_LABELS: dict[str, str] = {
    # groups and identity
    "county": "县（区）",
    "county_name": "县（区）名称",
    "county_code": "县（区）代码",
    "township": "乡镇（街道）",
    "township_name": "乡镇（街道）名称",
    "village": "村（社区）",
    "village_name": "村（社区）名称",
    "bank": "合作银行",
    "bank_name": "合作银行名称",
    "bank_code": "合作银行",
    "product": "贷款产品",
    "project_type": "项目类型",
    "category": "人群类别",
    "month": "月份",
    "quarter": "季度",
    "age_band": "年龄段",
    "loan_id": "贷款编号",
    "contract_no": "合同编号",
    "borrower_name": "借款人",
    "national_id_masked": "身份证号",
    # loan terms and dates
    "principal": "贷款金额（元）",
    "disbursed_on": "放款日期",
    "maturity_date": "到期日",
    "term_months": "期限（月）",
    "annual_rate": "年利率",
    "status": "贷款状态",
    "repayment_method": "还款方式",
    # repayment rate
    "principal_due": "应还本金（元）",
    "principal_repaid": "已还本金（元）",
    "on_time_repaid": "按期已还本金（元）",
    "repayment_rate": "还贷率",
    "on_time_rate": "按期还款率",
    "rate": "还贷率",
    "loan_count": "贷款笔数",
    "installment_count": "应还期数",
    # portfolio at risk
    "outstanding_principal": "贷款余额（元）",
    "overdue_principal": "逾期本金（元）",
    "par1_principal": "逾期1天以上贷款余额（元）",
    "par30_principal": "逾期30天以上贷款余额（元）",
    "par90_principal": "逾期90天以上贷款余额（元）",
    "par1_loans": "逾期1天以上笔数",
    "par30_loans": "逾期30天以上笔数",
    "par90_loans": "逾期90天以上笔数",
    "par1": "PAR1 风险贷款率",
    "par30": "PAR30 风险贷款率",
    "par90": "PAR90 风险贷款率",
    "arrears_rate": "欠款率（逾期本金/余额）",
    "portfolio_outstanding": "全部贷款余额（元）",
    "share": "占比",
    "dpd": "逾期天数",
    "bucket": "逾期分档",
    "five_class": "五级分类",
    "compensated": "已代偿",
    # county risk lists
    "days_to_maturity": "距到期天数",
    "window": "到期窗口",
    "last_visit_on": "上次核查日期",
    "days_since_visit": "距上次核查天数",
    "month_end": "月末",
    "has_snapshot": "有快照数据",
    "at_risk_principal": "逾期1天以上贷款余额（元）",
    "par": "PAR1 风险贷款率",
    "code": "提示类型",
    "subject": "对象",
    "text_zh": "风险提示",
    "text_en": "说明（英文）",
    # beneficiaries and entrepreneurship
    "women_supported": "扶持妇女（人）",
    "women_supported_cumulative": "累计扶持妇女（人）",
    "repeat_borrowers": "再次获贷妇女（人）",
    "loans_disbursed": "放款笔数",
    "amount_disbursed": "放款金额（元）",
    "cumulative_amount": "累计放款金额（元）",
    "outstanding_balance": "贷款余额（元）",
    "jobs_created": "带动就业（人）",
    "jobs_expected": "预期带动就业（人）",
    "stage": "阶段",
    "women": "妇女人数",
    "count": "数量",
    "unit": "计数单位",
    "trained": "参加培训（人）",
    "applied": "提交申请（人）",
    "disbursed": "获得贷款（人）",
    "still_operating": "仍在经营（人）",
    "loans_operating": "仍在经营的贷款（笔）",
    "loans_with_job_count": "已核查就业的贷款（笔）",
    "jobs_now_reported": "核查时就业人数（人）",
    "jobs_expected_reported": "同批贷款预期就业（人）",
    "months": "放款后月数",
    "eligible_loans": "应考察贷款（笔）",
    "surviving": "仍在经营（笔）",
    "closed": "已停业（笔）",
    "unknown": "未核查（笔）",
    "known": "已核查（笔）",
    "survival_rate": "存续率",
    # lending target
    "year": "年度",
    "month_no": "月",
    "elapsed": "已到月份",
    "target": "年度目标（元）",
    "remaining": "尚需放款（元）",
    "has_target": "已设定年度目标",
    "achieved": "目标完成率",
    # guarantee funds
    "fund_id": "基金编号",
    "name": "基金名称",
    "leverage": "放大倍数（倍）",
    "leverage_limit": "放大倍数上限（倍）",
    "risk_threshold": "代偿率风险阈值",
    "deposits": "存入（元）",
    "recoveries": "追偿收回（元）",
    "compensations": "代偿支出（元）",
    "withdrawals": "支取（元）",
    "balance": "基金余额（元）",
    "guaranteed_loans": "在保笔数",
    "guaranteed_outstanding": "在保余额（元）",
    "capacity_left": "剩余担保能力（元）",
    "compensated_loans": "代偿笔数",
    "compensated_principal": "代偿贷款本金（元）",
    "matured_or_compensated_principal": "已到期或代偿贷款本金（元）",
    "leverage_used": "实际放大倍数（倍）",
    "compensation_rate": "代偿率",
    "leverage_flag": "放大倍数超限",
    "compensation_flag": "代偿率超阈值",
    "funds": "基金数",
    "leverage_flags": "放大倍数超限基金数",
    "compensation_flags": "代偿率超阈值基金数",
    # interest subsidy
    "interest": "利息（元）",
    "subsidy_interest": "财政贴息（元）",
    "borrower_interest": "借款人承担利息（元）",
    "cancelled_subsidy": "提前还款取消贴息（元）",
    "subsidy_due": "应拨付贴息（元）",
    # headline-only keys
    "live_loans": "在贷笔数",
    "flags": "风险提示（条）",
}

# Labels that depend on the table (county risk report frames and generic tables).
TABLE_COLUMN_LABELS: dict[tuple[str, str], str] = {
    ("townships", "loan_count"): "在贷笔数",
    ("banks", "loan_count"): "在贷笔数",
    ("par_trend", "loan_count"): "在贷笔数",
    ("maturity_summary", "loan_count"): "到期笔数",
    ("maturity_summary", "window"): "到期时间",
    ("lending", "share"): "累计完成率",
    ("lending", "loans_disbursed"): "当月放款笔数",
    ("lending", "amount_disbursed"): "当月放款金额（元）",
    ("buckets", "share"): "余额占比",
    ("five_classes", "share"): "余额占比",
    ("funds", "bank_code"): "合作银行",
}

# A ratio column's label by its (numerator, denominator) when the table alone does not say.
RATIO_PAIR_LABELS: dict[tuple[str, str], str] = {
    ("cumulative_amount", "target"): "累计完成率",
    ("outstanding_principal", "portfolio_outstanding"): "余额占比",
}

HEADLINE_LABELS: dict[str, str] = {
    "loans_disbursed": "累计放款笔数",
    "cumulative_amount": "累计放款金额（元）",
    "live_loans": "在贷笔数",
    "outstanding_principal": "贷款余额（元）",
    "principal_due": "到期应还本金（元）",
    "principal_repaid": "到期已还本金（元）",
    "on_time_repaid": "按期已还本金（元）",
    "repayment_rate": "还贷率",
    "on_time_rate": "按期还款率",
    "par30_principal": "逾期30天以上贷款余额（元）",
    "par30": "PAR30 风险贷款率",
    "overdue_principal": "逾期本金（元）",
    "arrears_rate": "欠款率（逾期本金/余额）",
    "women_supported": "累计扶持妇女（人）",
    "jobs_created": "带动就业（人）",
    "jobs_expected": "预期带动就业（人）",
    "flags": "风险提示（条）",
}

# The county risk report's `lending_total` (this year's lending against the target).
LENDING_TOTAL_LABELS: dict[str, str] = {
    "target": "本年放款目标（元）",
    "loans_disbursed": "本年放款笔数",
    "amount_disbursed": "本年放款金额（元）",
    "achieved": "本年目标完成率",
    "remaining": "本年尚需放款（元）",
}

# --- tables and sheets ----------------------------------------------------------------------

TABLE_LABELS: dict[str, str] = {
    # 县妇联风险报告 sheets, in workbook order
    "headline": "概况",
    "townships": "乡镇",
    "banks": "银行",
    "overdue": "逾期清单",
    "maturities": "到期提醒",
    "maturity_summary": "到期汇总",
    "no_recent_visit": "超90天未核查",
    "par_trend": "PAR趋势",
    "lending": "放款进度",
    "funds": "担保基金",
    "flags": "风险提示",
    # generic reports
    "rows": "报表",
    "total": "合计",
    "below_full": "未足额还款贷款",
    "buckets": "逾期分档分布",
    "five_classes": "五级分类分布",
    "loans": "在贷清单",
    "by_category": "按人群类别",
    "by_project_type": "按项目类型",
    "by_region": "按乡镇",
    "by_age_band": "按年龄段",
    "survival": "经营存续",
    "claims": "贴息申报清单",
}

COUNTY_RISK_SHEETS: tuple[str, ...] = ("headline", *COUNTY_RISK_TABLES)

# --- coded values ---------------------------------------------------------------------------

BUCKET_LABELS = {
    "current": "未逾期",
    "1-30": "1–30天",
    "31-90": "31–90天",
    "91-180": "91–180天",
    "181+": "180天以上",
}
FIVE_CLASS_LABELS = {
    "normal": "正常",
    "special_mention": "关注",
    "substandard": "次级",
    "doubtful": "可疑",
    "loss": "损失",
}
LOAN_STATUS_LABELS = {
    "active": "正常",
    "overdue": "逾期",
    "settled": "已结清",
    "compensated": "已代偿",
    "recovered": "已追偿",
    "written_off": "已核销",
}
CATEGORY_LABELS = {
    "rural": "农村妇女",
    "laid_off": "城镇登记失业妇女",
    "returning_migrant": "返乡创业妇女",
    "graduate": "高校毕业生",
    "registered_poor": "建档立卡/脱贫户",
    "disabled": "残疾妇女",
    "veteran_family": "退役军人家属",
}
PROJECT_TYPE_LABELS = {
    "planting": "种植",
    "breeding": "养殖",
    "processing": "加工",
    "ecommerce": "电商",
    "handicraft": "手工",
    "services": "服务",
    "agritourism": "农家乐",
    "other": "其他",
}
BUSINESS_STATUS_LABELS = {
    "operating": "正常经营",
    "expanding": "扩大经营",
    "struggling": "经营困难",
    "closed": "已停业",
}
STAGE_LABELS = {
    "trained": "参加培训",
    "applied": "提交申请",
    "disbursed": "获得贷款",
    "still_operating": "仍在经营",
}
UNIT_LABELS = {"trainings": "培训人次", "applications": "申请件数", "loans": "贷款笔数"}
AGE_BAND_LABELS = {
    "18-29": "18–29岁",
    "30-39": "30–39岁",
    "40-49": "40–49岁",
    "50-60": "50–60岁",
    "other": "其他年龄",
    "unknown": "年龄不详",
}
FLAG_LABELS = {
    "township_below_full_repayment": "乡镇还贷率低于100%",
    "fund_leverage_above_limit": "担保基金放大倍数超限",
    "fund_compensation_rate_above_threshold": "担保基金代偿率超阈值",
}
REPAYMENT_METHOD_LABELS = {
    "quarterly_interest_bullet": "按季付息、到期还本",
    "monthly_interest_bullet": "按月付息、到期还本",
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "bullet": "到期一次还本付息",
}
RISK_LEVEL_LABELS = {"low": "低", "medium": "中", "high": "高"}
FUND_ENTRY_LABELS = {"deposit": "存入", "compensation": "代偿", "recovery": "追偿", "withdrawal": "支取"}

VALUE_LABELS: dict[str, dict[str, str]] = {
    "bucket": BUCKET_LABELS,
    "five_class": FIVE_CLASS_LABELS,
    "status": LOAN_STATUS_LABELS,
    "category": CATEGORY_LABELS,
    "project_type": PROJECT_TYPE_LABELS,
    "business_status": BUSINESS_STATUS_LABELS,
    "stage": STAGE_LABELS,
    "unit": UNIT_LABELS,
    "age_band": AGE_BAND_LABELS,
    "code": FLAG_LABELS,
    "repayment_method": REPAYMENT_METHOD_LABELS,
    "risk_level": RISK_LEVEL_LABELS,
    "kind": FUND_ENTRY_LABELS,
}

# What a missing group key means, per column (a loan without a township, an applicant without a category).
NULL_LABELS = {
    "category": "未分类",
    "township": "未填写",
    "village": "未填写",
    "project_type": "未填写",
}

YES, NO = "是", "否"

# County risk flags: red = the guarantee fund itself is at risk (losses above the threshold, or
# lending beyond what the fund may guarantee); orange = a township below the 100 % goal.
FLAG_LEVELS = {
    "fund_compensation_rate_above_threshold": "red",
    "fund_leverage_above_limit": "red",
    "township_below_full_repayment": "orange",
}
FLAG_LEVEL_LABELS = {"red": "红色", "orange": "橙色"}


def column_label(
    column: str, table: str | None = None, ratios: dict[str, tuple[str, str]] | None = None
) -> str:
    """The Chinese header of `column` (in `table`, if the table changes its meaning)."""
    if table is not None and (table, column) in TABLE_COLUMN_LABELS:
        return TABLE_COLUMN_LABELS[(table, column)]
    if ratios and column in ratios and tuple(ratios[column]) in RATIO_PAIR_LABELS:
        return RATIO_PAIR_LABELS[tuple(ratios[column])]  # type: ignore[index]
    return COLUMN_LABELS.get(column, column)


def table_label(table: str) -> str:
    return TABLE_LABELS.get(table, table)


def headline_label(key: str) -> str:
    return HEADLINE_LABELS.get(key) or COLUMN_LABELS.get(key, key)


def value_label(column: str, value: Any) -> Any:
    """A coded value in Chinese; booleans 是/否; the maturity window 30 → "30天内"; others as they are."""
    if value is None:
        return NULL_LABELS.get(column)
    if isinstance(value, bool):
        return YES if value else NO
    if column == "window" and isinstance(value, int):
        return f"{value}天内"
    labels = VALUE_LABELS.get(column)
    if labels is not None and isinstance(value, str):
        return labels.get(value, value)
    return value


def flag_level(code: str) -> str:
    return FLAG_LEVELS.get(code, "orange")


def region_name(regions: pl.DataFrame, code: str) -> str | None:
    """The name of region `code` in a REGIONS frame (`reports.frames.REGIONS`), or None."""
    hit = regions.filter(pl.col("code") == code)
    return None if hit.is_empty() else hit["name"][0]
