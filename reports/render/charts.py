"""The county risk page's three charts, drawn as inline SVG (no script, no external resource).

township_chart: repayment rate by township (bars, 100 % line); par_chart: PAR and arrears rate
at the last 12 month-ends (lines, a gap where there is no snapshot); lending_chart: this year's
lending by month against the annual target (bars, cumulative line). Amounts are 万元.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from reports.builders.county_risk import CountyRiskReport
from reports.render.page import e
from reports.render.tables import records
from reports.render.values import exact_ratio, percent_text, wan_text

GREEN, ORANGE, RED, BLUE, LIGHT_BLUE, GREY, INK = (
    "#2e7d32",
    "#e67e22",
    "#c62828",
    "#1f5fa8",
    "#9cc3ea",
    "#9e9e9e",
    "#333333",
)

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
    rows = records(report.townships)
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
    rows = records(report.par_trend)
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
    rows = records(report.lending)
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
