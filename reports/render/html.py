"""The county risk report as one printable, self-contained A4 HTML page in Chinese.

county_risk_html(report, county_name=None) -> str

Sections (a page break before each numbered one): title, date and headline figure cards, the risk
flags box (红色 / 橙色), the repayment rate by township chart; 一 township and 二 bank tables;
三 PAR trend over the last 12 month-ends and 四 lending against the annual target (charts); 五 the
overdue list; 六 maturities in 30/60/90 days and 七 loans without a post-loan visit in 90 days;
八 guarantee funds and the definitions. The three charts are inline SVG (see `charts`); no script,
no external resource, no web font (a CJK system font stack for Windows, macOS and Linux). Every
text is escaped; an empty table shows 无; an undefined rate (nothing due / outstanding) shows —.
Amounts are yuan in tables (exact from fen) and 万元 in the cards and charts.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from reports.builders.county_risk import CountyRiskReport
from reports.render.charts import RED as RED  # re-exported: the chart palette's red
from reports.render.charts import lending_chart, par_chart, township_chart
from reports.render.labels import FLAG_LEVEL_LABELS, column_label, flag_level
from reports.render.page import document, e
from reports.render.tables import DASH, NONE, Col, place, rate_flagged, records, table
from reports.render.values import cell, date_zh, exact_ratio, fen_to_yuan, money_text, percent_text, wan_text


def _card(label: str, value: str, unit: str = "", sub: str = "", tone: str = "") -> str:
    unit_html = f"<small>{e(unit)}</small>" if unit else ""
    sub_html = f'<div class="sub">{e(sub)}</div>' if sub else ""
    tone_cls = f" {tone}" if tone else ""
    return (
        f'<div class="card{tone_cls}"><div class="label">{e(label)}</div>'
        f'<div class="value">{e(value)}{unit_html}</div>{sub_html}</div>'
    )


def _yuan(fen: int | None) -> str:
    return money_text(fen_to_yuan(fen or 0))


def cards(report: CountyRiskReport) -> str:
    h = report.headline
    due, repaid, on_time = h["principal_due"], h["principal_repaid"], h["on_time_repaid"]
    out, par30, overdue = h["outstanding_principal"], h["par30_principal"], h["overdue_principal"]
    repay = exact_ratio(repaid, due)
    timely = exact_ratio(on_time, due)
    par = exact_ratio(par30, out)
    arrears = exact_ratio(overdue, out)

    def rate_card(label: str, rate: Decimal | None, sub: str, bad_below_one: bool = True) -> str:
        if rate is None:
            return _card(label, DASH, sub="尚无到期本金")
        tone = ("good" if rate >= 1 else "bad") if bad_below_one else ""
        return _card(label, percent_text(rate), sub=sub, tone=tone)

    def risk_card(label: str, rate: Decimal | None, sub: str) -> str:
        if rate is None:
            return _card(label, DASH, sub="无在贷余额")
        tone = "good" if rate == 0 else ("bad" if rate >= Decimal("0.05") else "warn")
        return _card(label, percent_text(rate), sub=sub, tone=tone)

    flags = h["flags"]
    items = [
        rate_card("还贷率", repay, f"已还 {wan_text(repaid)} / 应还 {wan_text(due)} 万元"),
        rate_card("按期还款率", timely, f"按期已还 {wan_text(on_time)} 万元", bad_below_one=False),
        risk_card("PAR30 风险贷款率", par, f"逾期30天以上余额 {wan_text(par30)} 万元"),
        risk_card("欠款率", arrears, f"逾期本金 {wan_text(overdue)} 万元"),
        _card("贷款余额", wan_text(out), "万元", f"在贷 {h['live_loans']:,} 笔"),
        _card("累计放款", wan_text(h["cumulative_amount"]), "万元", f"共 {h['loans_disbursed']:,} 笔"),
        _card(
            "扶持妇女",
            f"{h['women_supported']:,}",
            "人",
            f"带动就业 {h['jobs_created']:,} 人（预期 {h['jobs_expected']:,} 人）",
        ),
        _card(
            "风险提示",
            f"{flags:,}",
            "条",
            "见下方提示" if flags else "当前无风险提示",
            "bad" if flags else "good",
        ),
    ]
    return '<div class="cards">' + "".join(items) + "</div>"


def flags_box(report: CountyRiskReport) -> str:
    rows = records(report.flags)
    if not rows:
        detail = (
            "各乡镇（街道）还贷率均为100%，担保基金放大倍数与代偿率均在限额内。"
            if report.townships.height or report.funds.height
            else "本县暂无贷款与担保基金数据。"
        )
        return f'<div class="flags"><h2>风险提示</h2><p class="ok">无风险提示。{e(detail)}</p></div>'
    rows.sort(key=lambda r: 0 if flag_level(r["code"]) == "red" else 1)
    levels = {flag_level(r["code"]) for r in rows}
    box = "has-red" if "red" in levels else "has-orange"
    items = []
    for r in rows:
        level = flag_level(r["code"])
        items.append(
            f'<li><span class="badge {level}">{e(FLAG_LEVEL_LABELS[level])}</span>'
            f"{e(r['text_zh'] or r['text_en'] or r['code'])}</li>"
        )
    return f'<div class="flags {box}"><h2>风险提示（{len(rows)}条）</h2><ul>{"".join(items)}</ul></div>'


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{e(caption)}</figcaption></figure>"


def _region_tables(report: CountyRiskReport) -> str:
    r = report.ratios
    h = report.headline
    total = {
        "principal_due": h["principal_due"],
        "principal_repaid": h["principal_repaid"],
        "on_time_repaid": h["on_time_repaid"],
        "loan_count": h["live_loans"],
        "outstanding_principal": h["outstanding_principal"],
        "par30_principal": h["par30_principal"],
        "overdue_principal": h["overdue_principal"],
    }

    def repayment_cols(key: str, table_name: str) -> list[Col]:
        return [
            Col(key, column_label(key, table_name), place(key, wrap=key == "bank")),
            Col("principal_due"),
            Col("principal_repaid"),
            Col("on_time_repaid"),
            Col(
                "repayment_rate",
                None,
                rate_flagged("principal_repaid", "principal_due", "repayment_rate", r),
            ),
            Col("on_time_rate"),
        ]

    def risk_cols(key: str, table_name: str) -> list[Col]:
        return [
            Col(key, column_label(key, table_name), place(key, wrap=key == "bank")),
            Col("loan_count", column_label("loan_count", table_name)),
            Col("outstanding_principal"),
            Col("par30_principal"),
            Col("par30"),
            Col("overdue_principal"),
            Col("arrears_rate"),
        ]

    parts = []
    for number, key, frame, heading in (
        ("一", "township", report.townships, "各乡镇（街道）"),
        ("二", "bank", report.banks, "各合作银行"),
    ):
        rows, name = records(frame), f"{key}s"
        parts.append(f"<h2>{number}、{heading}还贷与风险</h2>")
        if not rows:
            parts.append(f'<p class="none">{NONE}</p>')
            continue
        parts.append("<h3>还贷率（到期本金口径）</h3>")
        parts.append(table(rows, repayment_cols(key, name), r, total=total))
        parts.append("<h3>在贷余额与风险贷款</h3>")
        parts.append(table(rows, risk_cols(key, name), r, total=total))
    return "".join(parts)


def _lending_summary(report: CountyRiskReport) -> str:
    t = report.lending_total
    year = t.get("year", report.as_of.year)
    count, amount = t.get("loans_disbursed", 0), _yuan(t.get("amount_disbursed"))
    done = f"截至{date_zh(report.as_of)}已放款 {count:,} 笔、{amount} 元"
    if t.get("has_target") and t.get("target"):
        achieved = exact_ratio(t.get("amount_disbursed"), t.get("target"))
        return (
            f'<p class="summary">{e(year)}年放款目标 {e(_yuan(t["target"]))} 元；{e(done)}，'
            f"完成 {e(percent_text(achieved) if achieved is not None else DASH)}，"
            f"尚需放款 {e(_yuan(t.get('remaining')))} 元。</p>"
        )
    return f'<p class="summary">{e(year)}年尚未设定放款目标；{e(done)}。</p>'


def _id_cols() -> list[Col]:
    """Contract; borrower over her masked ID; township over bank (two lines keep lists on A4)."""

    def borrower(record: Mapping[str, Any]) -> tuple[str, str]:
        return f"{record.get('borrower_name') or ''}\n{record.get('national_id_masked') or ''}", "id"

    def where(record: Mapping[str, Any]) -> tuple[str, str]:
        township, _ = place("township")(record)
        bank, _ = place("bank")(record)
        return f"{township}\n{bank}", "wrap wide"

    return [
        Col("contract_no"),
        Col("borrower_name", "借款人 / 身份证号", borrower),
        Col("township", "乡镇（街道）/ 合作银行", where),
    ]


def _overdue(report: CountyRiskReport) -> str:
    rows = records(report.overdue)
    outstanding = sum(r["outstanding_principal"] or 0 for r in rows)
    overdue = sum(r["overdue_principal"] or 0 for r in rows)
    summary = (
        f'<p class="summary">共 {len(rows):,} 笔逾期贷款，贷款余额 {e(_yuan(outstanding))} 元，'
        f"其中逾期本金 {e(_yuan(overdue))} 元；按逾期天数从高到低排列。身份证号已脱敏。</p>"
        if rows
        else ""
    )

    def dpd(record: Mapping[str, Any]) -> tuple[str, str]:
        days = record.get("dpd")
        if days is None:
            return DASH, "num"
        return f"{days:,}", "num bad" if days > 90 else ("num warn" if days > 30 else "num")

    cols = [
        *_id_cols(),
        Col("maturity_date"),
        Col("outstanding_principal"),
        Col("overdue_principal"),
        Col("dpd", None, dpd),
        Col("bucket"),
        Col("five_class", "五级分类"),
        Col("compensated", "代偿"),
    ]
    return "<h2>五、逾期贷款清单</h2>" + summary + table(rows, cols, report.ratios, css="list")


def _maturities(report: CountyRiskReport) -> str:
    summary_cols = [
        Col("window", "到期时间"),
        Col("loan_count", "到期笔数"),
        Col("outstanding_principal", "到期贷款余额（元）"),
    ]
    summary = table(records(report.maturity_summary), summary_cols, report.ratios, css="compact")
    cols = [
        *_id_cols(),
        Col("maturity_date"),
        Col("days_to_maturity"),
        Col("window"),
        Col("outstanding_principal"),
    ]
    return (
        "<h2>六、到期提醒（未来30/60/90天）</h2>"
        '<p class="summary">以下在贷贷款将在统计日后90天内到期（累计口径：60天内含30天内），'
        "请提前提醒借款人按时还款。</p>"
        + summary
        + "<h3>到期贷款明细</h3>"
        + table(records(report.maturities), cols, report.ratios, css="list")
    )


def _no_visit(report: CountyRiskReport) -> str:
    def last_visit(record: Mapping[str, Any]) -> tuple[str, str]:
        d = record.get("last_visit_on")
        return (d.isoformat(), "nowrap") if d else ("从未核查", "warn")

    cols = [
        *_id_cols(),
        Col("disbursed_on"),
        Col("last_visit_on", None, last_visit),
        Col("days_since_visit"),
        Col("outstanding_principal"),
    ]
    return (
        "<h2>七、超过90天未贷后核查的贷款</h2>"
        '<p class="summary">放款已满90天、最近一次贷后核查在90天前或从未核查的在贷贷款，请乡镇妇联安排走访。</p>'
        + table(records(report.no_recent_visit), cols, report.ratios, css="list")
    )


def _funds(report: CountyRiskReport) -> str:
    banks = {r["bank"]: r["bank_name"] for r in report.banks.iter_rows(named=True) if r["bank_name"]}
    ratios = report.ratios

    def fund(record: Mapping[str, Any]) -> tuple[str, str]:
        code = record.get("bank_code")
        return (
            f"{record.get('name') or record.get('fund_id')}\n{banks.get(code) or code or '未填写'}",
            "wrap wide",
        )

    def leverage(record: Mapping[str, Any]) -> tuple[str, str]:
        used = cell("leverage_used", record, ratios).plain() or DASH
        limit = cell("leverage_limit", record, ratios).plain() or DASH
        return f"{used} / {limit}", "num bad" if record.get("leverage_flag") else "num"

    def compensation(record: Mapping[str, Any]) -> tuple[str, str]:
        rate = cell("compensation_rate", record, ratios).text() or DASH
        threshold = cell("risk_threshold", record, ratios).text() or DASH
        return f"{rate} / {threshold}", "num bad" if record.get("compensation_flag") else "num"

    def capacity(record: Mapping[str, Any]) -> tuple[str, str]:
        c = cell("capacity_left", record, ratios)
        return c.text() or DASH, "num bad" if (record.get("capacity_left") or 0) < 0 else "num"

    def status(record: Mapping[str, Any]) -> tuple[str, str]:
        notes = [
            label
            for flag, label in (("leverage_flag", "放大倍数超限"), ("compensation_flag", "代偿率超阈值"))
            if record.get(flag)
        ]
        return ("、".join(notes), "wrap bad") if notes else ("正常", "")

    cols = [
        Col("name", "基金名称 / 合作银行", fund),
        Col("balance"),
        Col("guaranteed_loans"),
        Col("guaranteed_outstanding"),
        Col("leverage_used", "放大倍数（倍）实际 / 上限", leverage),
        Col("capacity_left", None, capacity),
        Col("compensated_loans"),
        Col("compensated_principal"),
        Col("compensation_rate", "代偿率 实际 / 阈值", compensation),
        Col("status", "状态", status),
    ]
    return "<h2>八、担保基金运行情况</h2>" + table(records(report.funds), cols, ratios, css="list")


NOTES = (
    "还贷率 = 统计日前到期的本金中借款人已偿还的部分 ÷ 到期应还本金；"
    "担保基金代偿不算还款，已代偿、已核销的贷款仍计入分母。",
    "按期还款率 = 在到期日当天或之前偿还的到期本金 ÷ 到期应还本金。",
    "PAR30（风险贷款率）= 逾期30天以上贷款的全部剩余本金 ÷ 全部贷款余额；欠款率 = 逾期未还本金 ÷ 贷款余额。",
    "趋势图的 PAR 按各月末日终快照中逾期1天以上贷款的余额计算；没有快照的月份留空。",
    "五级分类按逾期天数确定最低档：正常（未逾期）、关注（1–90天）、次级（91–270天）、可疑（271–360天）、损失（360天以上）。",
    "金额单位：元（卡片与图表为万元）；身份证号仅显示前6位和后4位。",
)


def county_risk_html(report: CountyRiskReport, county_name: str | None = None) -> str:
    """The county risk report as a complete, self-contained, printable A4 HTML page."""
    title = f"{county_name or '县'}妇联创业担保贷款风险报告"
    meta = f"统计日期：{date_zh(report.as_of)}　县（区）代码：{report.county_code}　金额单位：元"
    first = (
        f'<header><h1>{e(title)}</h1><p class="meta">{e(meta)}</p></header>'
        + cards(report)
        + flags_box(report)
        + "<h3>各乡镇（街道）还贷率</h3>"
        + _figure(
            township_chart(report),
            "按乡镇（街道）统计的还贷率，由低到高排列；红色虚线为100%还贷目标。绿色 = 100%，橙色 ≥ 95%，红色 < 95%。",
        )
    )
    trend = (
        "<h2>三、风险贷款率走势</h2>"
        + _figure(par_chart(report), "各月末日终快照；没有快照的月份留空（标注“无数据”），不作插值。")
        + "<h2>四、年度放款进度</h2>"
        + _figure(lending_chart(report), "柱：当月放款金额；折线：本年累计放款；虚线：县年度放款目标。")
        + _lending_summary(report)
    )
    notes = '<h3>指标说明</h3><ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in NOTES) + "</ul>"
    sections = [
        f'<section class="first">{first}</section>',
        f'<section class="page">{_region_tables(report)}</section>',
        f'<section class="page">{trend}</section>',
        f'<section class="page">{_overdue(report)}</section>',
        f'<section class="page">{_maturities(report)}{_no_visit(report)}</section>',
        f'<section class="page">{_funds(report)}{notes}</section>',
    ]
    return document(f"{title}（{report.as_of.isoformat()}）", sections)
