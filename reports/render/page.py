"""The page around the county risk report: escaping, the CJK font stack, the print CSS, the HTML shell.

A4 with 15 mm margins, a page break before each `section.page`, colours kept in print; no script,
no external resource, no web font (a CJK system font stack for Windows, macOS and Linux).
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


def document(title: str, sections: Sequence[str]) -> str:
    """A complete HTML page: `title` (plain text) in the head, the CSS, and `sections` in `<main>`."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )
