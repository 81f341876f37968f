"""Every column and table the builders emit has a Chinese label; values and cells are exact."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import polars as pl
from render_factory import AS_OF, COUNTY, COUNTY_NAME, realistic, small

from reports.builders import (
    beneficiaries,
    county_risk,
    entrepreneurship,
    guarantee_fund_status,
    interest_subsidy,
    lending_target,
    portfolio_at_risk,
    repayment_rate,
)
from reports.render.labels import (
    COUNTY_RISK_SHEETS,
    column_label,
    flag_level,
    headline_label,
    region_name,
    table_label,
    value_label,
)
from reports.render.values import cell

CJK = re.compile(r"[\u4e00-\u9fff]")


def emitted() -> list[tuple[str, list[str], dict]]:
    """(table name, columns, ratios) of every frame/dict the builders emit on a realistic county."""
    f = realistic()
    out: list[tuple[str, list[str], dict]] = []
    cr = county_risk(f, AS_OF, COUNTY)
    for name in COUNTY_RISK_SHEETS:
        cols = list(cr.headline) if name == "headline" else getattr(cr, name).columns
        out.append((name, cols, cr.ratios))
    out.append(("lending_total", list(cr.lending_total), cr.ratios))
    reports = [
        repayment_rate(
            f, AS_OF, ["county", "township", "village", "bank", "product", "project_type", "category"]
        ),
        repayment_rate(f, AS_OF, ["month"]),
        portfolio_at_risk(f, AS_OF, ["township", "bank"]),
        beneficiaries(f, date(2025, 1, 1), AS_OF, ["township", "month"]),
        entrepreneurship(f, AS_OF),
        lending_target(f, AS_OF, COUNTY),
        guarantee_fund_status(f, AS_OF),
        interest_subsidy(f, date(2025, 1, 1), AS_OF),
    ]
    for report in reports:
        out.append(("rows", report.rows.columns, report.ratios))
        out.append(("total", list(report.total), report.ratios))
        out.extend((name, frame.columns, report.ratios) for name, frame in report.tables.items())
    return out


def test_every_emitted_column_and_table_has_a_chinese_label() -> None:
    for table, columns, ratios in emitted():
        assert CJK.search(table_label(table)) or table == "lending_total", table
        for c in columns:
            label = column_label(c, table, ratios)
            assert label != c and (CJK.search(label) or label.startswith("PAR")), (table, c, label)


def test_labels_are_unique_within_a_table() -> None:
    for table, columns, ratios in emitted():
        if table in ("total", "lending_total"):
            continue
        labels = [column_label(c, table, ratios) for c in columns]
        assert len(labels) == len(set(labels)), (table, labels)


def test_brief_labels() -> None:
    expected = {
        "principal_due": "应还本金（元）",
        "principal_repaid": "已还本金（元）",
        "repayment_rate": "还贷率",
        "on_time_rate": "按期还款率",
        "outstanding_principal": "贷款余额（元）",
        "par30": "PAR30 风险贷款率",
        "dpd": "逾期天数",
        "bucket": "逾期分档",
        "five_class": "五级分类",
        "township": "乡镇（街道）",
        "bank": "合作银行",
        "national_id_masked": "身份证号",
        "borrower_name": "借款人",
        "contract_no": "合同编号",
        "maturity_date": "到期日",
        "days_since_visit": "距上次核查天数",
    }
    assert {k: column_label(k) for k in expected} == expected
    assert [table_label(t) for t in COUNTY_RISK_SHEETS] == [
        "概况", "乡镇", "银行", "逾期清单", "到期提醒", "到期汇总", "超90天未核查", "PAR趋势", "放款进度",
        "担保基金", "风险提示",
    ]  # fmt: skip
    assert column_label("something_new") == "something_new"
    assert table_label("something_new") == "something_new"
    assert column_label("share", "lending") == "累计完成率"
    assert (
        column_label("share", None, {"share": ("outstanding_principal", "portfolio_outstanding")})
        == "余额占比"
    )
    assert headline_label("loans_disbursed") == "累计放款笔数"


def test_value_labels() -> None:
    five = [
        value_label("five_class", v) for v in ("normal", "special_mention", "substandard", "doubtful", "loss")
    ]
    assert five == ["正常", "关注", "次级", "可疑", "损失"]
    assert value_label("bucket", "181+") == "180天以上"
    assert value_label("status", "compensated") == "已代偿"
    assert value_label("project_type", "agritourism") == "农家乐"
    assert value_label("category", "registered_poor") == "建档立卡/脱贫户"
    assert value_label("code", "fund_leverage_above_limit") == "担保基金放大倍数超限"
    assert value_label("window", 60) == "60天内"
    assert value_label("compensated", True) == "是"
    assert value_label("category", None) == "未分类"
    assert value_label("borrower_name", "王秀英") == "王秀英"
    assert value_label("five_class", "unheard_of") == "unheard_of"
    assert (flag_level("fund_leverage_above_limit"), flag_level("township_below_full_repayment")) == (
        "red",
        "orange",
    )


def test_cells_are_exact() -> None:
    money = cell("outstanding_principal", {"outstanding_principal": 123_450})
    assert (money.kind, money.value, money.text(), money.plain()) == (
        "money",
        Decimal("1234.50"),
        "1,234.50",
        "1234.50",
    )
    neg = cell("capacity_left", {"capacity_left": -5})
    assert neg.plain() == "-0.05"
    rate = cell("par30", {"par30": 0.3, "par30_principal": 1, "outstanding_principal": 3})
    assert (rate.value, rate.text()) == (Decimal("0.3333"), "33.33%")
    undefined = cell("repayment_rate", {"repayment_rate": 0.0, "principal_repaid": 0, "principal_due": 0})
    assert (undefined.value, undefined.text()) == (None, "")
    lev = cell("leverage_used", {"leverage_used": 30.0, "guaranteed_outstanding": 300_000, "balance": 10_000})
    assert (lev.kind, lev.text(), lev.plain()) == ("multiple", "30.00倍", "30.00")
    assert cell("risk_threshold", {"risk_threshold": 0.05}).text() == "5.00%"
    assert cell("year", {"year": 2025}).text() == "2025"
    assert cell("loan_count", {"loan_count": 12345}).text() == "12,345"
    assert cell("maturity_date", {"maturity_date": date(2025, 7, 20)}).text() == "2025-07-20"
    # the lending `share` pair is found although the county report's ratios do not declare it
    share = cell("share", {"share": 0.4, "cumulative_amount": 400, "target": 1000})
    assert share.value == Decimal("0.4000")


def test_region_name() -> None:
    assert region_name(small().regions, COUNTY) == COUNTY_NAME
    assert (
        region_name(pl.DataFrame(schema={"code": pl.String, "name": pl.String, "level": pl.String}), COUNTY)
        is None
    )
