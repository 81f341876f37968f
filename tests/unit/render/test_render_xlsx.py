"""XLSX and CSV renderers: Chinese sheets and headers, amounts in yuan as numbers, rates as
percent-formatted numbers, real dates, frozen header and filter; CSV with a BOM."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import date
from xml.etree import ElementTree

import fastexcel
import polars as pl
from render_factory import AS_OF, COUNTY, COUNTY_NAME, FULL_ID, MASKED_ID, T1, realistic, small

from reports.builders import county_risk, portfolio_at_risk, repayment_rate
from reports.frames import PortfolioFrames
from reports.render.xlsx import county_risk_xlsx, display_width, ordered_columns, report_csv, report_xlsx

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
BUILTIN_FORMATS = {0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%"}
COUNTY_SHEETS = [
    "概况",
    "乡镇",
    "银行",
    "逾期清单",
    "到期提醒",
    "到期汇总",
    "超90天未核查",
    "PAR趋势",
    "放款进度",
    "担保基金",
    "风险提示",
]


def _col_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters
    n = 0
    for ch in letters.group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1


def raw_sheet(data: bytes, sheet: str) -> list[list[tuple[str, str, str] | None]]:
    """The sheet's cells straight from the XML: (type, value, number format) per cell; type is
    "s" for a string (value resolved), "n" for a number. Also checks nothing else is used."""
    z = zipfile.ZipFile(io.BytesIO(data))
    workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
    names = [s.get("name") for s in workbook.findall("m:sheets/m:sheet", NS)]
    path = f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"
    strings = []
    if "xl/sharedStrings.xml" in z.namelist():
        sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in sst.findall("m:si", NS)
        ]
    styles = ElementTree.fromstring(z.read("xl/styles.xml"))
    custom = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.findall("m:numFmts/m:numFmt", NS)}
    xfs = [int(xf.get("numFmtId", 0)) for xf in styles.findall("m:cellXfs/m:xf", NS)]
    rows: list[list[tuple[str, str, str] | None]] = []
    for row in ElementTree.fromstring(z.read(path)).findall("m:sheetData/m:row", NS):
        cells: list[tuple[str, str, str] | None] = []
        for c in row.findall("m:c", NS):
            j = _col_index(c.get("r"))
            cells.extend([None] * (j + 1 - len(cells)))
            v = c.find("m:v", NS)
            fmt_id = xfs[int(c.get("s", 0))]
            fmt = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, str(fmt_id))
            if v is None:
                cells[j] = ("blank", "", fmt)
            elif c.get("t") == "s":
                cells[j] = ("s", strings[int(v.text)], fmt)
            else:
                assert c.get("t") in (None, "n"), c.get("t")
                cells[j] = ("n", v.text, fmt)
        rows.append(cells)
    return rows


def column(rows: list, header: str) -> list:
    j = [c[1] if c else None for c in rows[0]].index(header)
    return [r[j] if j < len(r) else None for r in rows[1:]]


def sheet_xml(data: bytes, sheet: str) -> str:
    z = zipfile.ZipFile(io.BytesIO(data))
    names = [
        s.get("name")
        for s in ElementTree.fromstring(z.read("xl/workbook.xml")).findall("m:sheets/m:sheet", NS)
    ]
    return z.read(f"xl/worksheets/sheet{names.index(sheet) + 1}.xml").decode()


def test_county_workbook_sheets_headers_and_typed_cells() -> None:
    data = county_risk_xlsx(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    sheets = pl.read_excel(data, sheet_id=0, raise_if_empty=False)
    assert list(sheets) == COUNTY_SHEETS

    townships = sheets["乡镇"]
    assert townships.columns[:4] == ["乡镇（街道）", "乡镇（街道）名称", "应还本金（元）", "已还本金（元）"]
    assert {"还贷率", "按期还款率", "贷款余额（元）", "PAR30 风险贷款率", "在贷笔数"} <= set(
        townships.columns
    )
    assert townships["乡镇（街道）"].to_list() == [T1, "620302002000"]  # codes stay text
    assert townships["乡镇（街道）名称"].to_list() == ["城关镇", "柳湖镇"]
    assert townships["还贷率"].dtype.is_numeric()
    assert townships["还贷率"].to_list() == [1.0, 0.25]
    assert townships["应还本金（元）"].to_list() == [765.5, 1000.0]

    maturities = sheets["到期提醒"]
    assert maturities["贷款余额（元）"].dtype.is_numeric()
    assert maturities["贷款余额（元）"].to_list() == [1234.5]
    assert maturities["身份证号"].to_list() == [MASKED_ID]
    assert maturities["到期窗口"].to_list() == ["30天内"]
    assert maturities["到期日"].dtype == pl.Date or maturities["到期日"].dtype == pl.Datetime
    assert maturities["到期日"].cast(pl.Date).to_list() == [date(2025, 7, 20)]

    overdue = sheets["逾期清单"]
    assert overdue["逾期天数"].to_list() == [121]
    assert overdue["逾期分档"].to_list() == ["91–180天"]
    assert overdue["五级分类"].to_list() == ["次级"]
    assert overdue["已代偿"].to_list() == ["否"]
    assert overdue.columns[-1] == "贷款编号"  # the internal id last

    trend = sheets["PAR趋势"]
    assert trend.height == 12
    assert trend["有快照数据"].to_list().count("是") == 1

    flags = sheets["风险提示"]
    assert flags["提示类型"].to_list() == ["乡镇还贷率低于100%"]
    assert flags["风险提示"].to_list() == ["柳湖镇还贷率25.00%，低于100%"]

    headline = dict(sheets["概况"].select("指标", "数值").iter_rows())
    assert headline["县（区）"] == COUNTY_NAME
    assert headline["县（区）代码"] == COUNTY


def test_amounts_rates_and_dates_are_formatted_numbers() -> None:
    data = county_risk_xlsx(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    maturities = raw_sheet(data, "到期提醒")
    assert column(maturities, "贷款余额（元）") == [("n", "1234.5", "#,##0.00")]
    assert column(maturities, "到期日") == [("n", "45858", "yyyy-mm-dd")]  # 2025-07-20 as an Excel serial
    townships = raw_sheet(data, "乡镇")
    assert column(townships, "还贷率") == [("n", "1", "0.00%"), ("n", "0.25", "0.00%")]
    assert column(townships, "乡镇（街道）")[0] == ("s", T1, "General")

    headline = raw_sheet(data, "概况")
    values = {r[0][1]: r[1] for r in headline[1:]}
    assert values["还贷率"] == ("n", "0.5752", "0.00%")  # exact 101550/176550, half-up as in the JSON
    assert values["贷款余额（元）"] == ("n", "2984.5", "#,##0.00")
    assert values["统计日期"] == ("n", "45838", "yyyy-mm-dd")
    assert values["2025年放款目标（元）"] == ("n", "10000", "#,##0.00")
    assert values["30天内到期贷款余额（元）"] == ("n", "1234.5", "#,##0.00")

    funds = raw_sheet(county_risk_xlsx(county_risk(realistic(), AS_OF, COUNTY)), "担保基金")
    leverage = column(funds, "实际放大倍数（倍）")
    assert leverage[0][0] == "n" and leverage[0][2] == '0.00"倍"'


def test_header_frozen_filtered_and_widths_fit_cjk() -> None:
    data = county_risk_xlsx(county_risk(small(), AS_OF, COUNTY), COUNTY_NAME)
    xml = sheet_xml(data, "逾期清单")
    assert 'ySplit="1"' in xml and 'state="frozen"' in xml
    assert '<autoFilter ref="A1:' in xml
    widths = [
        float(w)
        for lo, hi, w in re.findall(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', xml)
        for _ in range(int(lo), int(hi) + 1)
    ]
    header = pl.read_excel(data, sheet_name="逾期清单").columns
    # every column at least as wide as its header (CJK counted double), within the cap
    assert len(widths) == len(header) == 17
    assert all(w >= min(display_width(h), 58) for w, h in zip(widths, header, strict=True))
    assert widths[header.index("身份证号")] >= len(MASKED_ID)
    assert display_width("乡镇（街道）") == 12
    assert display_width("PAR30") == 5


def test_undefined_rate_is_an_empty_cell_not_zero() -> None:
    data = county_risk_xlsx(county_risk(PortfolioFrames.empty(), AS_OF, COUNTY))
    headline = raw_sheet(data, "概况")
    values = {r[0][1]: r[1] for r in headline[1:]}
    assert values["还贷率"][0] == "blank"  # nothing due: no rate, rather than 0.00 %
    assert values["贷款余额（元）"] == ("n", "0", "#,##0.00")
    assert values["2025年放款目标（元）"][1] == "未设定"


def test_empty_portfolio_workbook() -> None:
    data = county_risk_xlsx(county_risk(PortfolioFrames.empty(), AS_OF, COUNTY))
    reader = fastexcel.read_excel(data)
    assert reader.sheet_names == COUNTY_SHEETS
    sheets = pl.read_excel(data, sheet_id=0, raise_if_empty=False)
    assert sheets["逾期清单"].height == 0
    assert sheets["乡镇"].height == 0
    assert sheets["到期汇总"]["到期笔数"].to_list() == [0, 0, 0]
    assert sheets["放款进度"].height == 12


def test_generic_report_workbook_with_total_row_and_tables() -> None:
    report = repayment_rate(small(), AS_OF, ["township"])
    data = report_xlsx(report, "还贷率报表")
    sheets = pl.read_excel(data, sheet_id=0, raise_if_empty=False)
    assert list(sheets) == ["还贷率报表", "未足额还款贷款"]  # the total is the bold last row
    rows = sheets["还贷率报表"]
    assert rows["乡镇（街道）"].to_list() == [T1, "620302002000", "合计"]
    assert rows["应还本金（元）"].to_list() == [765.5, 1000.0, 1765.5]
    assert rows["还贷率"].to_list() == [1.0, 0.25, 0.5752]
    below = sheets["未足额还款贷款"]
    assert below["身份证号"].to_list() == [MASKED_ID]
    assert below["还贷率"].to_list() == [0.25]

    par = report_xlsx(portfolio_at_risk(small(), AS_OF), "风险贷款率")
    names = fastexcel.read_excel(par).sheet_names
    assert names == ["风险贷款率", "逾期分档分布", "五级分类分布", "在贷清单", "逾期清单"]
    classes = pl.read_excel(par, sheet_name="五级分类分布")
    assert classes["五级分类"].to_list() == ["正常", "关注", "次级", "可疑", "损失"]
    assert classes.columns == ["五级分类", "贷款笔数", "贷款余额（元）", "全部贷款余额（元）", "余额占比"]


def test_generic_report_total_sheet_when_the_total_says_more() -> None:
    from reports.builders import lending_target

    data = report_xlsx(lending_target(small(), AS_OF, COUNTY), "放款进度")
    sheets = pl.read_excel(data, sheet_id=0, raise_if_empty=False)
    assert list(sheets) == ["放款进度", "合计"]
    assert sheets["放款进度"]["累计完成率"].dtype.is_numeric()
    total = dict(sheets["合计"].iter_rows())
    assert total["年度"] == "2025"
    assert total["已设定年度目标"] == "是"


def test_csv_has_bom_chinese_header_and_yuan_strings() -> None:
    text = report_csv(repayment_rate(small(), AS_OF, ["township"]))
    assert text.startswith("\ufeff")
    lines = text[1:].splitlines()
    assert lines[0].split(",")[:3] == ["乡镇（街道）", "乡镇（街道）名称", "应还本金（元）"]
    assert lines[1].startswith(f"{T1},城关镇,765.50,765.50,")
    assert lines[-1].startswith("合计,,1765.50,1015.50,")
    assert "57.52%" in lines[-1]
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")

    listed = report_csv(repayment_rate(small(), AS_OF), table="below_full")
    assert MASKED_ID in listed and FULL_ID not in listed
    assert "25.00%" in listed


def test_csv_neutralises_formulas_in_text() -> None:
    frames = small()
    frames = replace(
        frames,
        loans=frames.loans.with_columns(
            pl.when(pl.col("loan_id") == "L2")
            .then(pl.lit('=HYPERLINK("http://x","y")'))
            .otherwise(pl.col("borrower_name"))
            .alias("borrower_name")
        ),
    )
    listed = report_csv(repayment_rate(frames, AS_OF), table="below_full")
    assert "'=HYPERLINK" in listed
    data = county_risk_xlsx(county_risk(frames, AS_OF, COUNTY))
    assert "<f>" not in sheet_xml(data, "逾期清单")  # written as a string, never a formula


def test_display_order() -> None:
    cols = ["loan_id", "contract_no", "township", "bank", "township_name", "bank_name", "dpd"]
    assert ordered_columns(cols) == [
        "contract_no",
        "township",
        "township_name",
        "bank",
        "bank_name",
        "dpd",
        "loan_id",
    ]


def test_realistic_county_workbook() -> None:
    data = county_risk_xlsx(county_risk(realistic(), AS_OF, COUNTY), COUNTY_NAME)
    sheets = pl.read_excel(data, sheet_id=0, raise_if_empty=False)
    assert sheets["逾期清单"].height >= 3
    assert sheets["PAR趋势"]["有快照数据"].to_list().count("否") == 2
    assert FULL_ID.encode() not in data
