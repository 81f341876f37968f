"""HTML tables of the county risk page: columns, cells and the 合计 row.

An empty table shows 无; an undefined rate (nothing due / outstanding) shows —; a newline in a
cell's text starts a grey second line. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from reports.render.labels import column_label, value_label
from reports.render.page import e
from reports.render.values import cell

NONE = "无"
DASH = "—"


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
    # A wide table scrolls sideways on a narrow screen; the scrolling box takes the keyboard focus to do so.
    return (
        f'<div class="table-scroll" tabindex="0" role="region" aria-label="表格，可左右滚动">'
        f"<table{cls_attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _td(text: str, cls: str) -> str:
    """A cell; lines after the first (a masked ID under a name, a bank under a township) in grey."""
    first, *more = text.split("\n")
    content = e(first) + "".join(f'<br><span class="second">{e(line)}</span>' for line in more)
    return f'<td class="{e(cls)}">{content}</td>' if cls else f"<td>{content}</td>"


def place(key: str, wrap: bool = False) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    """A region or bank shown by name, else by code, else 未填写 (long bank names may wrap)."""

    def show(record: Mapping[str, Any]) -> tuple[str, str]:
        name = record.get(f"{key}_name") or record.get(key) or value_label(key, None) or "未填写"
        return str(name), "wrap" if wrap else ""

    return show


def rate_flagged(num: str, den: str, key: str, ratios: Mapping[str, tuple[str, str]]):
    """A rate, red when the numerator falls short of the denominator (below 100 %)."""

    def show(record: Mapping[str, Any]) -> tuple[str, str]:
        c = cell(key, record, ratios)
        if c.value is None:
            return DASH, "num"
        short = (record.get(num) or 0) < (record.get(den) or 0)
        return c.text(), "num bad" if short else "num"

    return show


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return list(frame.iter_rows(named=True))
