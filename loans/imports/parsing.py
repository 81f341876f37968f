"""Reading an uploaded table (CSV or XLSX, Chinese or English headers) and a bank's repayment export into a
validated frame.

Pure polars: no database. File-level problems raise ImportFileError; row-level problems become a
``reason`` on the row, so one bad row never sinks the file.
"""

from __future__ import annotations

import io
from datetime import date

import polars as pl

from loans.core.errors import BilingualValueError
from loans.money import amount_column

COLUMNS = {
    "contract_no": ("合同编号", "合同号", "借款合同编号", "contract_no", "contract number"),
    "bank_txn_ref": ("交易流水号", "流水号", "bank_txn_ref", "transaction reference", "txn_ref"),
    "paid_on": ("还款日期", "交易日期", "paid_on", "date"),
    "amount": ("还款金额", "交易金额", "金额", "amount"),
}


class ImportFileError(BilingualValueError):
    """An uploaded file that cannot be read as the table it should hold."""


def _decode(content: bytes, *, gbk: bool) -> str:
    """UTF-8 (a BOM or none); with ``gbk``, GBK/GB18030 too (what Excel saves as CSV on a Chinese Windows)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            if gbk:
                raise ImportFileError(
                    "the file is neither UTF-8 nor GBK/GB18030 text", "文件不是 UTF-8 或 GBK 编码的文本"
                ) from None
            raise ImportFileError("the file is not UTF-8 text", "文件不是 UTF-8 编码的文本") from None
        if gbk:
            return text
        raise ImportFileError(
            "the file is encoded as GBK/GB18030; save it as UTF-8 CSV or as XLSX",
            "文件为 GBK 编码，请另存为 UTF-8 编码的 CSV 或 XLSX 文件",
        ) from None


def read_table(content: bytes, filename: str, *, gbk: bool = False) -> pl.DataFrame:
    """Every cell as a string, the header row's names as the columns."""
    if not content.strip():
        raise ImportFileError("the file is empty", "文件为空")
    if filename.lower().endswith((".xlsx", ".xls")) or content[:4] == b"PK\x03\x04":
        try:
            return pl.read_excel(io.BytesIO(content), engine="calamine", infer_schema_length=0)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a malformed workbook
            raise ImportFileError(
                f"the workbook cannot be read ({exc.__class__.__name__})", "无法读取该 Excel 文件"
            ) from exc
    text = _decode(content, gbk=gbk)
    try:
        return pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as exc:
        raise ImportFileError(f"the CSV cannot be read: {exc}", "CSV 文件格式错误，无法读取") from exc


def named_columns(
    frame: pl.DataFrame, columns: dict[str, tuple[str, ...]], optional: frozenset[str] = frozenset()
) -> pl.DataFrame:
    """The ``columns`` found by any of their headers (the first is the Chinese one), renamed to their API names;
    an ``optional`` column that is absent comes back null. A missing required column refuses the file."""
    by_header = {str(c).strip().lower(): c for c in frame.columns}
    mapping, missing = {}, []
    for name, aliases in columns.items():
        found = next((by_header[a.lower()] for a in aliases if a.lower() in by_header), None)
        if found is not None:
            mapping[name] = pl.col(found).cast(pl.String)
        elif name in optional:
            mapping[name] = pl.lit(None, pl.String)
        else:
            missing.append(f"{name} ({aliases[0]})")
    if missing:
        raise ImportFileError(
            f"missing columns: {', '.join(missing)}; found: {', '.join(map(str, frame.columns))}",
            f"缺少列：{'、'.join(m.split(' (')[1].rstrip(')') for m in missing)}",
        )
    return frame.select(expr.alias(name) for name, expr in mapping.items())


def read_bank_file(content: bytes, filename: str, today: date) -> pl.DataFrame:
    """Rows with ``row_no`` (1 = first data row), the raw fields, parsed ``paid_on`` and ``amount`` (fen),
    and ``reason`` (null when the row is well formed)."""
    frame = named_columns(read_table(content, filename), COLUMNS)
    if frame.height == 0:
        raise ImportFileError("the file has a header but no rows", "文件只有表头，没有数据行")
    cleaned = frame.with_row_index("row_no", offset=1).with_columns(
        pl.col("contract_no").str.strip_chars(),
        pl.col("bank_txn_ref").str.strip_chars(),
        pl.col("paid_on").str.strip_chars().str.slice(0, 10).str.replace_all("/", "-"),
        pl.col("amount").str.strip_chars(),
    )
    amount_fen, amount_problem = amount_column(pl.col("amount"), grouped=True)
    parsed = cleaned.with_columns(
        pl.col("paid_on").str.to_date("%Y-%m-%d", strict=False).alias("paid_on_date"),
        amount_fen.alias("amount_fen"),
        amount_problem.alias("amount_problem"),
    )
    reason = (
        pl.when(pl.col("contract_no").is_null() | (pl.col("contract_no") == ""))
        .then(pl.lit("missing contract number / 缺少合同编号"))
        .when(pl.col("bank_txn_ref").is_null() | (pl.col("bank_txn_ref") == ""))
        .then(pl.lit("missing transaction reference / 缺少交易流水号"))
        .when(pl.col("paid_on_date").is_null())
        .then(pl.lit("paid_on is not a YYYY-MM-DD date / 还款日期格式错误"))
        .when(pl.col("paid_on_date") > today)
        .then(pl.lit("paid_on is in the future / 还款日期晚于今天"))
        .when(pl.col("amount").is_null() | (pl.col("amount") == ""))
        .then(pl.lit("missing amount / 缺少还款金额"))
        .when(pl.col("amount_problem").is_not_null())
        .then(pl.format("amount {} / 还款金额{}", *_split(pl.col("amount_problem"))))
        .when(pl.col("amount_fen") <= 0)
        .then(pl.lit("amount must be positive / 还款金额须大于零"))
        .otherwise(None)
    )
    return parsed.select(
        "row_no",
        "contract_no",
        "bank_txn_ref",
        pl.col("paid_on_date").alias("paid_on"),
        pl.col("amount_fen").alias("amount"),
        reason.alias("reason"),
    )


def _split(bilingual: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """An "English / 中文" reason as its two halves."""
    halves = bilingual.str.split_exact(" / ", 1)
    return halves.struct.field("field_0"), halves.struct.field("field_1")
