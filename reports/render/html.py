"""The county risk report as one printable, self-contained A4 HTML page in Chinese.

county_risk_html(report, county_name=None) -> str

Sections (a page break before each numbered one): title, date and headline figure cards, the risk
flags box (红色 / 橙色), the repayment rate by township chart; 一 township and 二 bank tables;
三 PAR trend over the last 12 month-ends and 四 lending against the annual target (charts); 五 the
overdue list; 六 maturities in 30/60/90 days and 七 loans without a post-loan visit in 90 days;
八 guarantee funds and the definitions. The three charts are inline SVG drawn here; no script,
no external resource, no web font (a CJK system font stack for Windows, macOS and Linux). Every
text is escaped; an empty table shows 无; an undefined rate (nothing due / outstanding) shows —.
Amounts are yuan in tables (exact from fen) and 万元 in the cards and charts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

import polars as pl

from reports.builders.county_risk import CountyRiskReport
from reports.render.labels import (
    FLAG_LEVEL_LABELS,
    column_label,
    flag_level,
    value_label,
)
from reports.render.values import (
    cell,
    date_zh,
    exact_ratio,
    fen_to_yuan,
    money_text,
    percent_text,
    wan_text,
)

FONT_STACK = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "微软雅黑", "Noto Sans CJK SC", '
    '"Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei", '
    '"WenQuanYi Zen Hei", "SimHei", "Heiti SC", sans-serif'
)
NONE = "无"
DASH = "—"

GREEN, ORANGE, RED, BLUE, LIGHT_BLUE, GREY, INK = (
    "#2e7d32",
    "#e67e22",
    "#c62828",
    "#1f5fa8",
    "#9cc3ea",
    "#9e9e9e",
    "#333333",
)

CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: #222; background: #fff; font-family: FONTS; font-size: 10pt; line-height: 1.45; }
main { max-width: 180mm; margin: 0 auto; }
@media screen {
  body { background: #eceff1; }
  main { max-width: 210mm; background: #fff; padding: 15mm; margin: 8mm auto; box-shadow: 0 1px 4px #0003; }
}
h1 { font-size: 18pt; margin: 0 0 2mm; text-align: center; letter-spacing: 0.5pt; }
h2 { font-size: 13pt; margin: 6mm 0 2.5mm; padding-left: 2mm; border-left: 4px solid #1f5fa8;
     break-after: avoid; page-break-after: avoid; }
h2:first-child { margin-top: 0; }
h3 { font-size: 11pt; margin: 4mm 0 2mm; break-after: avoid; page-break-after: avoid; }
p { margin: 1.5mm 0; }
.meta { text-align: center; color: #555; margin: 0 0 5mm; font-size: 9.5pt; }
section.page { break-before: page; page-break-before: always; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2.5mm; margin-bottom: 4mm; }
.card { border: 1px solid #cfd8dc; border-radius: 2mm; padding: 2mm 3mm; break-inside: avoid; }
.card .label { color: #555; font-size: 9pt; }
.card .value { font-size: 16pt; font-weight: bold; line-height: 1.25; font-variant-numeric: tabular-nums;
               white-space: nowrap; }
.card .value small { font-size: 9pt; font-weight: normal; color: #555; margin-left: 1mm; }
.card .sub { color: #666; font-size: 8pt; }
.card.good .value { color: #2e7d32; }
.card.bad { border-color: #c62828; }
.card.bad .value { color: #c62828; }
.card.warn { border-color: #e67e22; }
.card.warn .value { color: #d35400; }
.flags { border: 1.5px solid #2e7d32; border-radius: 2mm; padding: 2mm 4mm; margin: 0 0 4mm;
         break-inside: avoid; }
.flags.has-red { border-color: #c62828; background: #fff5f5; }
.flags.has-orange { border-color: #e67e22; background: #fff9f2; }
.flags h2 { border: 0; padding: 0; margin: 0 0 1.5mm; }
.flags ul { margin: 0; padding: 0; list-style: none; }
.flags li { margin: 1mm 0; }
.badge { display: inline-block; min-width: 11mm; text-align: center; color: #fff; border-radius: 1mm;
         padding: 0 1.5mm; margin-right: 2mm; font-size: 8.5pt; }
.badge.red { background: #c62828; }
.badge.orange { background: #e67e22; }
.flags .ok { color: #2e7d32; }
figure { margin: 2mm 0 4mm; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 8.5pt; color: #666; margin-top: 1mm; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: FONTS; }
table { width: 100%; border-collapse: collapse; margin: 1mm 0 3mm; font-size: 8.5pt; }
table.list { font-size: 8pt; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.compact { width: auto; min-width: 50%; }
th, td { border: 1px solid #b0bec5; padding: 0.8mm 1.5mm; vertical-align: top; }
th { background: #e3edf7; font-weight: bold; text-align: center; vertical-align: middle; min-width: 3.2em; }
td { white-space: nowrap; }
td.wrap { white-space: normal; min-width: 7em; }
td.wide { min-width: 11em; }
td .second { color: #666; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: #c62828; font-weight: bold; }
td.warn { color: #d35400; font-weight: bold; }
tr.total td { font-weight: bold; background: #f5f7f9; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tbody tr.total td { background: #eef2f5; }
.none { color: #666; padding: 2mm 0; }
.summary { margin: 1mm 0 2mm; }
.notes { font-size: 8.5pt; color: #555; }
.notes li { margin: 0.8mm 0; }
""".replace("FONTS", FONT_STACK)


def e(value: Any) -> str:
    """Escaped text (every string that reaches the page goes through here)."""
    return escape("" if value is None else str(value), quote=True)


# --- tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A column of an HTML table: the record key, its header, and optionally how to show it.

    `show(record)` returns (text, css class); the text is escaped by the table, a newline in it
    starts a second line in the cell."""

    key: str
    label: str | None = None
    show: Callable[[Mapping[str, Any]], tuple[str, str]] | None = None


def _default_show(
    key: str, ratios: Mapping[str, tuple[str, str]]
) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    def show(record: Mapping[str, Any]) -> tuple[str, str]:
        c = cell(key, record, ratios)
        text = c.text() or DASH
        cls = "num" if c.numeric or (c.kind == "empty" and key in _NUMERIC_HINT) else ""
        if key == "national_id_masked":
            cls = "id"
        elif c.kind == "date":
            cls = "nowrap"
        return text, cls

    return show


_NUMERIC_HINT = frozenset({"days_since_visit", "dpd", "days_to_maturity"})


def table(
    records: Sequence[Mapping[str, Any]],
    cols: Sequence[Col],
    ratios: Mapping[str, tuple[str, str]],
    *,
    table_name: str | None = None,
    total: Mapping[str, Any] | None = None,
    css: str = "",
) -> str:
    """An HTML table of `records`, or 无 when there are none; `total` is a bold 合计 row."""
    if not records:
        return f'<p class="none">{NONE}</p>'
    shows = [c.show or _default_show(c.key, ratios) for c in cols]
    head = "".join(f"<th>{e(c.label or column_label(c.key, table_name))}</th>" for c in cols)
    body = []
    for record in records:
        cells = []
        for show in shows:
            text, cls = show(record)
            cells.append(_td(text, cls))
        body.append("<tr>" + "".join(cells) + "</tr>")
    if total is not None:
        cells = []
        for i, show in enumerate(shows):
            text, cls = show(total)
            if i == 0:
                text, cls = "合计", ""
            cells.append(_td(text, cls))
        body.append('<tr class="total">' + "".join(cells) + "</tr>")
    cls_attr = f' class="{e(css)}"' if css else ""
    return f"<table{cls_attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _td(text: str, cls: str) -> str:
    """A cell; lines after the first (a masked ID under a name, a bank under a township) in grey."""
    first, *more = text.split("\n")
    content = e(first) + "".join(f'<br><span class="second">{e(line)}</span>' for line in more)
    return f'<td class="{e(cls)}">{content}</td>' if cls else f"<td>{content}</td>"


def _place(key: str, wrap: bool = False) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    """A region or bank shown by name, else by code, else 未填写 (long bank names may wrap)."""

    def show(record: Mapping[str, Any]) -> tuple[str, str]:
        name = record.get(f"{key}_name") or record.get(key) or value_label(key, None) or "未填写"
        return str(name), "wrap" if wrap else ""

    return show


def _rate_flagged(num: str, den: str, key: str, ratios: Mapping[str, tuple[str, str]]):
    """A rate, red when the numerator falls short of the denominator (below 100 %)."""

    def show(record: Mapping[str, Any]) -> tuple[str, str]:
        c = cell(key, record, ratios)
        if c.value is None:
            return DASH, "num"
        short = (record.get(num) or 0) < (record.get(den) or 0)
        return c.text(), "num bad" if short else "num"

    return show


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True))


# --- charts ---------------------------------------------------------------------------------

W = 680  # every chart's viewBox width (≈ 180 mm printed)


def _svg(height: float, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height:.0f}" '
        f'role="img" aria-label="{e(title)}"><title>{e(title)}</title>{body}</svg>'
    )


def _text(x: float, y: float, content: str, *, size: float = 11, anchor: str = "start", fill: str = INK,
          weight: str = "normal") -> str:  # fmt: skip
    bold = ' font-weight="bold"' if weight != "normal" else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{bold}>'
        f"{e(content)}</text>"
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, dash: str = "") -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{dash_attr}/>'
    )


def _empty_chart(title: str, message: str, height: int = 70) -> str:
    body = f'<rect x="0.5" y="0.5" width="{W - 1}" height="{height - 1}" fill="#fafafa" stroke="#ddd"/>'
    body += _text(W / 2, height / 2 + 5, message, size=13, anchor="middle", fill="#777")
    return _svg(height, title, body)


def _fit(text: str, width: int) -> str:
    """`text` cut to `width` display columns (CJK = 2), with … when cut."""
    out, used = "", 0
    for ch in text:
        w = 2 if ord(ch) > 0x2E7F else 1
        if used + w > width:
            return out + "…"
        out, used = out + ch, used + w
    return out


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    exp = math.floor(math.log10(raw))
    base = 10**exp
    for f in (1, 2, 2.5, 5, 10):
        if raw <= f * base + 1e-12:
            return f * base
    return 10 * base


def _number(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def township_chart(report: CountyRiskReport) -> str:
    """Horizontal bars: repayment rate per township, with the 100 % reference line."""
    title = "各乡镇（街道）还贷率"
    rows = _records(report.townships)
    if not rows:
        return _empty_chart(title, "无乡镇数据")
    due = [r for r in rows if (r["principal_due"] or 0) > 0]
    not_due = [r for r in rows if not (r["principal_due"] or 0) > 0]
    due.sort(key=lambda r: (exact_ratio(r["principal_repaid"], r["principal_due"]), str(r["township"])))
    ordered = due + not_due
    x0, x1, top, row_h, bar_h = 150, 590, 34, 24, 14
    height = top + row_h * len(ordered) + 12
    scale = x1 - x0
    parts = []
    for pct in (0, 25, 50, 75, 100):
        x = x0 + scale * pct / 100
        if pct < 100:
            parts.append(_line(x, top - 6, x, height - 8, "#e0e0e0"))
        parts.append(_text(x, top - 12, f"{pct}%", size=10, anchor="middle", fill="#666"))
    for i, r in enumerate(ordered):
        y = top + i * row_h
        name = str(r.get("township_name") or r.get("township") or "未填写")
        label = _fit(name, 20)
        parts.append(f"<g><title>{e(name)}</title>")
        parts.append(_text(x0 - 8, y + row_h / 2 + 4, label, size=11.5, anchor="end"))
        rate = exact_ratio(r["principal_repaid"], r["principal_due"])
        if rate is None:
            parts.append(_text(x0 + 4, y + row_h / 2 + 4, "尚无到期本金", size=10.5, fill="#888"))
        else:
            w = float(rate) * scale
            color = GREEN if rate >= 1 else (ORANGE if rate >= Decimal("0.95") else RED)
            by = y + (row_h - bar_h) / 2
            parts.append(f'<rect x="{x0}" y="{by:.1f}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
            parts.append(
                _text(W - 6, y + row_h / 2 + 4, percent_text(rate), size=10.5, anchor="end", fill=color,
                      weight="bold")
            )  # fmt: skip
        parts.append("</g>")
    parts.append(_line(x1, top - 6, x1, height - 6, RED, 1.5, "5 3"))
    parts.append(_line(x0, top - 6, x0, height - 6, "#777"))
    return _svg(height, title, "".join(parts))


def _month_label(d: Any) -> str:
    return f"{d.month}月"


def par_chart(report: CountyRiskReport) -> str:
    """Line: PAR (DPD ≥ 1) and the arrears rate at the last 12 month-ends; no snapshot → a gap."""
    title = "近12个月末风险贷款率（PAR）走势"
    rows = _records(report.par_trend)
    if not rows:
        return _empty_chart(title, "暂无月末快照数据")
    par: list[Decimal | None] = []
    arrears: list[Decimal | None] = []
    for r in rows:
        ok = r["has_snapshot"]
        par.append(exact_ratio(r["at_risk_principal"], r["outstanding_principal"]) if ok else None)
        arrears.append(exact_ratio(r["overdue_principal"], r["outstanding_principal"]) if ok else None)
    known = [float(v) for v in par + arrears if v is not None]
    height, pl_, pr, pt, pb = 260, 56, 64, 40, 46
    plot_w, plot_h = W - pl_ - pr, height - pt - pb
    top_value = max([*known, 0.04]) * 1.1
    step = _nice_step(top_value / 5)
    ymax = step * math.ceil(top_value / step - 1e-9)
    n = len(rows)
    slot = plot_w / n

    def x_at(i: int) -> float:
        return pl_ + slot * (i + 0.5)

    def y_at(v: float) -> float:
        return pt + plot_h * (1 - v / ymax)

    parts = []
    ticks = round(ymax / step)
    for k in range(ticks + 1):
        v = step * k
        y = y_at(v)
        parts.append(_line(pl_, y, W - pr, y, "#e0e0e0" if k else "#777"))
        parts.append(_text(pl_ - 6, y + 4, f"{_number(v * 100)}%", size=10, anchor="end", fill="#666"))
    for i, r in enumerate(rows):
        d = r["month_end"]
        fill = INK if r["has_snapshot"] else "#aaa"
        parts.append(_text(x_at(i), height - pb + 16, _month_label(d), size=10, anchor="middle", fill=fill))
        if i == 0 or d.month == 1:
            parts.append(
                _text(x_at(i), height - pb + 30, f"{d.year}年", size=9.5, anchor="middle", fill="#666")
            )
        if not r["has_snapshot"]:
            parts.append(_text(x_at(i), height - pb - 6, "无数据", size=8.5, anchor="middle", fill="#aaa"))
    for values, color, dash in ((arrears, ORANGE, "5 3"), (par, RED, "")):
        segment: list[tuple[float, float]] = []
        segments = []
        for i, v in enumerate(values):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
            else:
                segment.append((x_at(i), y_at(float(v))))
        if segment:
            segments.append(segment)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for seg in segments:
            if len(seg) > 1:
                d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(seg))
                parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"{dash_attr}/>')
            for x, y in seg:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
    last = next((i for i in range(n - 1, -1, -1) if par[i] is not None), None)
    if last is not None:
        v = par[last]
        assert v is not None
        parts.append(
            _text(x_at(last) + 7, y_at(float(v)) - 6, percent_text(v), size=10.5, fill=RED, weight="bold")
        )
    # legend
    lx = pl_
    parts.append(_line(lx, 14, lx + 24, 14, RED, 2))
    parts.append(_text(lx + 30, 18, "PAR（逾期1天以上贷款余额 ÷ 贷款余额）", size=10.5))
    lx2 = lx + 300
    parts.append(_line(lx2, 14, lx2 + 24, 14, ORANGE, 2, "5 3"))
    parts.append(_text(lx2 + 30, 18, "欠款率（逾期本金 ÷ 贷款余额）", size=10.5))
    if not known:
        parts.append(_text(W / 2, pt + plot_h / 2, "暂无月末快照数据", size=13, anchor="middle", fill="#777"))
    return _svg(height, title, "".join(parts))


def lending_chart(report: CountyRiskReport) -> str:
    """This year's disbursements by month (bars), the cumulative amount (line) and the target."""
    year = report.lending_total.get("year", report.as_of.year)
    title = f"{year}年放款进度（万元）"
    rows = _records(report.lending)
    if not rows:
        return _empty_chart(title, "无放款数据")
    target = int(report.lending_total.get("target") or 0)
    has_target = bool(report.lending_total.get("has_target")) and target > 0
    monthly = [int(r["amount_disbursed"] or 0) for r in rows]
    cumulative = [int(r["cumulative_amount"] or 0) if r["elapsed"] else None for r in rows]
    peak = max([target if has_target else 0, *monthly, *(c or 0 for c in cumulative)])
    height, pl_, pr, pt, pb = 270, 64, 24, 40, 40
    plot_w, plot_h = W - pl_ - pr, height - pt - pb
    top_wan = peak / 1_000_000 * 1.1 if peak else 1.0
    step = _nice_step(top_wan / 5)
    ymax = step * math.ceil(top_wan / step - 1e-9)
    n = len(rows)
    slot = plot_w / n

    def x_at(i: int) -> float:
        return pl_ + slot * (i + 0.5)

    def y_at(fen: int) -> float:
        return pt + plot_h * (1 - (fen / 1_000_000) / ymax)

    parts = []
    ticks = round(ymax / step)
    for k in range(ticks + 1):
        v = step * k
        y = pt + plot_h * (1 - v / ymax)
        parts.append(_line(pl_, y, W - pr, y, "#e0e0e0" if k else "#777"))
        parts.append(_text(pl_ - 6, y + 4, _number(v), size=10, anchor="end", fill="#666"))
    parts.append(_text(pl_ - 6, pt - 12, "万元", size=10, anchor="end", fill="#666"))
    bar_w = slot * 0.5
    for i, r in enumerate(rows):
        x = x_at(i)
        if monthly[i] > 0:
            y = y_at(monthly[i])
            parts.append(
                f'<rect x="{x - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{pt + plot_h - y:.1f}" fill="{LIGHT_BLUE}"><title>{e(r["month"])} '
                f"{e(wan_text(monthly[i]))}万元</title></rect>"
            )
        fill = INK if r["elapsed"] else "#aaa"
        parts.append(_text(x, height - pb + 16, f"{r['month_no']}月", size=10, anchor="middle", fill=fill))
    if has_target:
        y = y_at(target)
        parts.append(_line(pl_, y, W - pr, y, RED, 1.5, "6 3"))
        parts.append(
            _text(W - pr - 2, y - 5, f"年度目标 {wan_text(target)} 万元", size=10.5, anchor="end", fill=RED)
        )
    points = [(i, c) for i, c in enumerate(cumulative) if c is not None]
    if points:
        xy = [(x_at(i), y_at(c)) for i, c in points]
        d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(xy))
        parts.append(f'<path d="{d}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{BLUE}"/>' for x, y in xy)
        last, last_value = points[-1]
        if last_value:
            label = wan_text(last_value)
            parts.append(_text(x_at(last), y_at(last_value) - 8, label, size=10.5, anchor="middle", fill=BLUE,
                               weight="bold"))  # fmt: skip
    # legend
    parts.append(f'<rect x="{pl_}" y="8" width="16" height="10" fill="{LIGHT_BLUE}"/>')
    parts.append(_text(pl_ + 22, 17, "当月放款", size=10.5))
    parts.append(_line(pl_ + 100, 13, pl_ + 124, 13, BLUE, 2))
    parts.append(_text(pl_ + 130, 17, "累计放款", size=10.5))
    if has_target:
        parts.append(_line(pl_ + 210, 13, pl_ + 234, 13, RED, 1.5, "6 3"))
        parts.append(_text(pl_ + 240, 17, "年度目标", size=10.5))
    else:
        parts.append(_text(pl_ + 210, 17, "未设定年度放款目标", size=10.5, fill="#777"))
    if not any(monthly):
        parts.append(_text(W / 2, pt + plot_h / 2, "本年尚无放款", size=13, anchor="middle", fill="#777"))
    return _svg(height, title, "".join(parts))


# --- page parts -----------------------------------------------------------------------------


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
    rows = _records(report.flags)
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
            Col(key, column_label(key, table_name), _place(key, wrap=key == "bank")),
            Col("principal_due"),
            Col("principal_repaid"),
            Col("on_time_repaid"),
            Col(
                "repayment_rate",
                None,
                _rate_flagged("principal_repaid", "principal_due", "repayment_rate", r),
            ),
            Col("on_time_rate"),
        ]

    def risk_cols(key: str, table_name: str) -> list[Col]:
        return [
            Col(key, column_label(key, table_name), _place(key, wrap=key == "bank")),
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
        rows, name = _records(frame), f"{key}s"
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
        township, _ = _place("township")(record)
        bank, _ = _place("bank")(record)
        return f"{township}\n{bank}", "wrap wide"

    return [
        Col("contract_no"),
        Col("borrower_name", "借款人 / 身份证号", borrower),
        Col("township", "乡镇（街道）/ 合作银行", where),
    ]


def _overdue(report: CountyRiskReport) -> str:
    rows = _records(report.overdue)
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
    summary = table(_records(report.maturity_summary), summary_cols, report.ratios, css="compact")
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
        + table(_records(report.maturities), cols, report.ratios, css="list")
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
        + table(_records(report.no_recent_visit), cols, report.ratios, css="list")
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
    return "<h2>八、担保基金运行情况</h2>" + table(_records(report.funds), cols, ratios, css="list")


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
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}（{e(report.as_of.isoformat())}）</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )
