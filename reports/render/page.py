"""The page around the county risk report: escaping, the CJK font stack, the print CSS, the HTML shell.

A4 with 15 mm margins, a page break before each `section.page`, colours kept in print; no script,
no external resource, no web font (a CJK system font stack for Windows, macOS and Linux). Every rule but the
page's own (@page, html, body) is scoped to `.county-risk`, so that the CSS also serves the report inside
another page's layout (the web interface).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

FONT_STACK = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "微软雅黑", "Noto Sans CJK SC", '
    '"Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei", '
    '"WenQuanYi Zen Hei", "SimHei", "Heiti SC", sans-serif'
)

CSS = """
@page { size: A4; margin: 15mm; }
.county-risk, .county-risk * { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body.report-page { margin: 0; background: #fff; }
.county-risk { color: #222; background: #fff; font-family: FONTS; font-size: 10pt; line-height: 1.45;
                max-width: 180mm; margin: 0 auto; }
@media screen {
  body.report-page { background: #eceff1; }
  .county-risk { max-width: 210mm; background: #fff; padding: 15mm; margin: 8mm auto; box-shadow: 0 1px 4px #0003; }
  .county-risk .table-scroll { overflow-x: auto; }
}
.county-risk h1 { font-size: 18pt; margin: 0 0 2mm; text-align: center; letter-spacing: 0.5pt; }
.county-risk h2 { font-size: 13pt; margin: 6mm 0 2.5mm; padding-left: 2mm; border-left: 4px solid #1f5fa8;
     break-after: avoid; page-break-after: avoid; }
.county-risk h2:first-child { margin-top: 0; }
.county-risk h3 { font-size: 11pt; margin: 4mm 0 2mm; break-after: avoid; page-break-after: avoid; }
.county-risk p { margin: 1.5mm 0; }
.county-risk .meta { text-align: center; color: #555; margin: 0 0 5mm; font-size: 9.5pt; }
.county-risk section.page { break-before: page; page-break-before: always; }
.county-risk .cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2.5mm; margin-bottom: 4mm; }
.county-risk .card { border: 1px solid #cfd8dc; border-radius: 2mm; padding: 2mm 3mm; break-inside: avoid; }
.county-risk .card .label { color: #555; font-size: 9pt; }
.county-risk .card .value { font-size: 16pt; font-weight: bold; line-height: 1.25; font-variant-numeric: tabular-nums;
               white-space: nowrap; }
.county-risk .card .value small { font-size: 9pt; font-weight: normal; color: #555; margin-left: 1mm; }
.county-risk .card .sub { color: #666; font-size: 8pt; }
.county-risk .card.good .value { color: #2e7d32; }
.county-risk .card.bad { border-color: #c62828; }
.county-risk .card.bad .value { color: #c62828; }
.county-risk .card.warn { border-color: #e67e22; }
.county-risk .card.warn .value { color: #b34700; }
.county-risk .flags { border: 1.5px solid #2e7d32; border-radius: 2mm; padding: 2mm 4mm; margin: 0 0 4mm;
         break-inside: avoid; }
.county-risk .flags.has-red { border-color: #c62828; background: #fff5f5; }
.county-risk .flags.has-orange { border-color: #e67e22; background: #fff9f2; }
.county-risk .flags h2 { border: 0; padding: 0; margin: 0 0 1.5mm; }
.county-risk .flags ul { margin: 0; padding: 0; list-style: none; }
.county-risk .flags li { margin: 1mm 0; }
.county-risk .badge { display: inline-block; min-width: 11mm; text-align: center; color: #fff; border-radius: 1mm;
         padding: 0 1.5mm; margin-right: 2mm; font-size: 8.5pt; }
.county-risk .badge.red { background: #c62828; }
.county-risk .badge.orange { background: #b35c00; }
.county-risk .flags .ok { color: #2e7d32; }
.county-risk figure { margin: 2mm 0 4mm; break-inside: avoid; page-break-inside: avoid; }
.county-risk figcaption { font-size: 8.5pt; color: #666; margin-top: 1mm; }
.county-risk svg { display: block; width: 100%; height: auto; }
.county-risk svg text { font-family: FONTS; }
.county-risk table { width: 100%; border-collapse: collapse; margin: 1mm 0 3mm; font-size: 8.5pt; }
.county-risk table.list { font-size: 8pt; }
.county-risk thead { display: table-header-group; }
.county-risk tr { break-inside: avoid; page-break-inside: avoid; }
.county-risk table.compact { width: auto; min-width: 50%; }
.county-risk th, .county-risk td { border: 1px solid #b0bec5; padding: 0.8mm 1.5mm; vertical-align: top; }
.county-risk th { background: #e3edf7; font-weight: bold; text-align: center; vertical-align: middle;
                  min-width: 3.2em; }
.county-risk td { white-space: nowrap; }
.county-risk td.wrap { white-space: normal; min-width: 7em; }
.county-risk td.wide { min-width: 11em; }
.county-risk td .second { color: #666; }
.county-risk td.num { text-align: right; font-variant-numeric: tabular-nums; }
.county-risk td.bad { color: #c62828; font-weight: bold; }
.county-risk td.warn { color: #b34700; font-weight: bold; }
.county-risk tr.total td { font-weight: bold; background: #f5f7f9; }
.county-risk tbody tr:nth-child(even) td { background: #fafbfc; }
.county-risk tbody tr.total td { background: #eef2f5; }
.county-risk .none { color: #666; padding: 2mm 0; }
.county-risk .summary { margin: 1mm 0 2mm; }
.county-risk .notes { font-size: 8.5pt; color: #555; }
.county-risk .notes li { margin: 0.8mm 0; }
/* A phone or a narrow window: the sheet loses its margins, cards go two by two. */
@media screen and (max-width: 60rem) {
  .county-risk { padding: 4mm; margin: 0 auto; box-shadow: none; }
  .county-risk .cards { grid-template-columns: repeat(2, 1fr); }
}
""".replace("FONTS", FONT_STACK)


def e(value: Any) -> str:
    """Escaped text (every string that reaches the page goes through here)."""
    return escape("" if value is None else str(value), quote=True)


MAIN_OPEN = '<main class="county-risk">\n'
MAIN_CLOSE = "\n</main>"


def document(title: str, sections: Sequence[str]) -> str:
    """A complete HTML page: `title` (plain text) in the head, the CSS, and `sections` in `<main>`."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n"
        f'<style>{CSS}</style>\n</head>\n<body class="report-page">\n{MAIN_OPEN}'
        + "\n".join(sections)
        + f"{MAIN_CLOSE}\n</body>\n</html>\n"
    )


def parts_of(page: str) -> tuple[str, str]:
    """The (escaped) title and the sections of a page `document` made, for a host page that links `CSS` as a
    file and puts the sections in an element of class ``county-risk`` (a web page whose Content-Security-Policy
    refuses inline styles)."""
    title = page[page.index("<title>") + len("<title>") : page.index("</title>")]
    start = page.index(MAIN_OPEN) + len(MAIN_OPEN)
    return title, page[start : page.rindex(MAIN_CLOSE)]
