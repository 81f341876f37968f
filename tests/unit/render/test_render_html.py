"""The printable county risk page: Chinese, self-contained, escaped, three inline-SVG charts,
balanced markup, masked IDs only, and an empty county that still renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from render_factory import AS_OF, COUNTY, COUNTY_NAME, FULL_ID, MASKED_ID, realistic, small

from reports.builders import county_risk
from reports.frames import PortfolioFrames
from reports.render.html import RED, county_risk_html

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Balance(HTMLParser):
    """Tracks open elements; records any close tag that does not match the open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.counts: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in ("style",):
            self.text.append(data)


def parse(page: str) -> Balance:
    parser = Balance()
    parser.feed(page)
    parser.close()
    return parser


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def test_page_is_complete_chinese_and_balanced() -> None:
    page = county_risk_html(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    assert "<h1>金川区妇联创业担保贷款风险报告</h1>" in page
    assert "2025年6月30日" in page
    parsed = parse(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert parsed.counts["svg"] == 3
    assert parsed.counts["table"] >= 6
    text = "".join(parsed.text)
    for heading in ("风险提示", "各乡镇（街道）还贷与风险", "各合作银行还贷与风险", "逾期贷款清单", "到期提醒",
                    "超过90天未贷后核查的贷款", "担保基金运行情况", "年度放款进度", "风险贷款率走势"):  # fmt: skip
        assert heading in text
    assert "None" not in text and "nan" not in text


def test_print_css_and_no_external_resources() -> None:
    page = county_risk_html(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    assert "@page { size: A4; margin: 15mm; }" in page
    assert "break-before: page" in page
    assert "Microsoft YaHei" in page and "PingFang SC" in page and "Noto Sans CJK SC" in page
    for forbidden in ("<script", "<link", "<img", "@import", "url(", "src="):
        assert forbidden not in page
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}


def test_ids_masked_and_text_escaped() -> None:
    page = county_risk_html(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    assert MASKED_ID in page
    assert FULL_ID not in page
    assert "李&lt;b&gt;芳&lt;/b&gt;" in page  # a borrower name is text, never markup
    assert "<b>芳" not in page


def test_headline_cards_and_flags() -> None:
    page = county_risk_html(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    assert "57.52%" in page  # repayment rate 101550 / 176550
    assert '<div class="flags has-orange">' in page
    assert '<span class="badge orange">橙色</span>柳湖镇还贷率25.00%，低于100%' in page
    assert '<td class="num">1,234.50</td>' in page  # L1's outstanding in the maturities list


def test_three_charts() -> None:
    report = county_risk(realistic(), AS_OF, COUNTY)
    page = county_risk_html(report, COUNTY_NAME)
    townships, trend, lending = svgs(page)
    # repayment rate by township: one bar per township and the dashed 100 % line
    assert townships.count("<rect") == report.townships.height
    assert re.search(r'<line x1="590\.0"[^>]*stroke-dasharray', townships)
    assert "100%" in townships
    # PAR trend: 12 months, two without a snapshot → the PAR line broken into three pieces
    assert trend.count("无数据") == 2
    assert len(re.findall(rf'<path [^>]*stroke="{RED}"', trend)) == 3
    assert "7月" in trend and "2025年" in trend
    # lending: monthly bars, the cumulative line and the target line
    assert "年度目标 2,000.00 万元" in lending
    assert "<path" in lending
    for chart in (townships, trend, lending):
        assert chart.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 680 ')
        assert "<title>" in chart


def test_red_flags_first() -> None:
    page = county_risk_html(county_risk(realistic(), AS_OF, COUNTY), COUNTY_NAME)
    assert '<div class="flags has-red">' in page
    badges = re.findall(r'<span class="badge (\w+)">', page)
    assert badges == sorted(badges, key=lambda b: b != "red") and "red" in badges and "orange" in badges


def test_empty_county_renders() -> None:
    page = county_risk_html(county_risk(PortfolioFrames.empty(), AS_OF, COUNTY))
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert parsed.counts["svg"] == 3
    assert "<h1>县妇联创业担保贷款风险报告</h1>" in page
    assert COUNTY in page  # the code in the subtitle
    assert '<p class="none">无</p>' in page
    assert "暂无月末快照数据" in page
    assert "未设定年度放款目标" in page
    text = "".join(parsed.text)
    assert "None" not in text and "nan" not in text
