"""The read plan of a report: which frames the loader reads, and by which query (pure; `reports.loader` runs it).

What a report asks for (`FrameWants`) and what stands on its date (`Stands`: nothing paid, reversed, accrued or
visited later; the last closed business date) decide whether the repayment history is read whole or through the
running sums each installment and loan keeps, and whether the whole portfolio's loans are read in parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from reports import frames as f
from reports.frames import SCHEMAS
from reports.queries import (
    FROM_PARTS,
    KEPT_DUE_SELECT,
    KEPT_SELECT,
    KEPT_VISIT_SELECT,
    PART_COLUMNS,
    PART_KEYS,
)

LOAN_READ_COLUMNS = [name for name in f.LOANS.names() if name not in FROM_PARTS]

_HISTORY = {"installments", "allocations", "penalties"}
# The frames of what each loan keeps (by the query they would be read by on their own), and their columns: for a
# scope they ride along with the loans read (`loader._unload_riders` takes them off), which then need not be found
# again — formatting a few more integers costs the read next to nothing; a read of its own scanned the loans again.
KEPT_RIDERS = {
    "loan_paid": ("loan_kept", list(KEPT_SELECT)),
    "due_totals": ("kept_due_totals", list(KEPT_DUE_SELECT)),
    "last_visits": ("kept_last_visits", list(KEPT_VISIT_SELECT)),
}
# The longest reads first, and the loans' parts right after the loans, so that neither reader is left with a
# long one at the end.
_LONGEST_FIRST = list(
    dict.fromkeys(
        [
            "allocations",
            "installments",
            "standing_installments",
            "due_totals",
            "penalties",
            "loans",
            *PART_COLUMNS,
            "visits",
            "members",
            "last_visits",
            "loan_paid",
            *SCHEMAS,
        ]
    )
)


@dataclass(frozen=True)
class FrameWants:
    """What a report reads. ``frames``: the input frames (None: all; the others stay empty). ``loan_columns``: the
    loans frame's columns (and `loan_id`; None: all). ``due_totals``: only the repayment-rate sums of the
    installments due by the date (per loan, or per loan and due month). ``positions``: the repayment history only
    through the positions on the date (`asof.installment_positions`, `asof.loan_positions`). ``last_visits``: the
    visits only through each loan's latest on the date (`asof.last_visits`)."""

    frames: frozenset[str] | None = None
    due_totals: Literal["loan", "loan_month"] | None = None
    positions: bool = False
    loan_columns: frozenset[str] | None = None
    last_visits: bool = False

    @property
    def asks_what_stands(self) -> bool:
        """Whether the plan depends on what stands on the date (`Stands`), which then has to be looked up."""
        return self.due_totals is not None or self.positions or self.last_visits


@dataclass(frozen=True)
class Stands:
    """What stands on a report's date: nothing paid or reversed (``payments``), accrued (``penalties``) or visited
    (``visits``) with a later date; ``due_through``, the last closed business date (None: none closed)."""

    payments: bool = False
    penalties: bool = False
    due_through: date | None = None
    visits: bool = False


@dataclass(frozen=True)
class ReadPlan:
    """``reads``: (frame, query) pairs, longest first. ``loan_read``: the loans query's own columns, then
    ``rider_columns``, those of the frames in ``riders`` that ride along with it. ``columns``/``parts``: the loans
    frame's columns and the frames joined into it. ``kept_through``: the last closed date when the positions come
    from what the loans keep of earlier installments. ``split_loans``: the loans are read as ranges of the table,
    one for each reader."""

    reads: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    loan_read: tuple[str, ...]
    parts: tuple[str, ...]
    riders: tuple[str, ...] = ()
    rider_columns: tuple[str, ...] = ()
    by_month: bool = False
    due_through: date | None = None
    standing: bool = False
    kept_through: date | None = None
    split_loans: bool = False


def loan_reads(loan_columns: frozenset[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(the loans frame's columns, those read by the loans query, the parts read beside it) for the columns a
    report reads (None: all)."""
    columns = [c for c in f.LOANS.names() if loan_columns is None or c in loan_columns or c == "loan_id"]
    parts = [name for name, part in PART_COLUMNS.items() if part & set(columns)]
    keys = {PART_KEYS[name] for name in parts}
    return columns, [c for c in LOAN_READ_COLUMNS if c in columns or c in keys], parts


def plan_reads(wants: FrameWants, stands: Stands, until: date, whole_portfolio: bool) -> ReadPlan:
    """The reads for ``wants`` on ``until``: the running sums stand for the history when ``stands`` says nothing
    later happened, and what each loan keeps when the last closed date is not after ``until``."""
    columns, loan_read, parts = loan_reads(wants.loan_columns)
    closed = stands.due_through
    kept_stand = closed is not None and closed <= until
    totals_stand = wants.due_totals is not None and stands.payments
    positions_stand = wants.positions and stands.payments and stands.penalties
    kept_positions = positions_stand and kept_stand
    wanted = set(SCHEMAS if wants.frames is None else wants.frames)
    if "loans" in wanted:
        wanted |= set(parts)
    if positions_stand:
        wanted = wanted - _HISTORY | {"standing_installments", "loan_paid"}
    if totals_stand:
        wanted |= {"due_totals"}
        if not wants.positions:
            wanted -= {"installments", "allocations"}
    visits_stand = wants.last_visits and stands.visits and "visits" in wanted
    if visits_stand:
        wanted = wanted - {"visits"} | {"last_visits"}
    # What the loans keep is read under the name of what it stands for.
    source: dict[str, str] = {}
    if totals_stand and wants.due_totals == "loan" and kept_stand:
        source["due_totals"] = "kept_due_totals"
    if kept_positions:
        source |= {"standing_installments": "standing_since_closed", "loan_paid": "loan_kept"}
    if visits_stand:
        source["last_visits"] = "kept_last_visits"
    riders = [
        name for name, (query, _) in KEPT_RIDERS.items() if "loans" in wanted and source.get(name) == query
    ]
    wanted -= set(riders)
    return ReadPlan(
        reads=tuple((name, source.get(name, name)) for name in sorted(wanted, key=_LONGEST_FIRST.index)),
        columns=tuple(columns),
        loan_read=tuple(loan_read),
        parts=tuple(parts),
        riders=tuple(riders),
        rider_columns=tuple(c for name in riders for c in KEPT_RIDERS[name][1]),
        by_month=wants.due_totals == "loan_month",
        due_through=closed,
        standing=positions_stand,
        kept_through=closed if kept_positions else None,
        split_loans=whole_portfolio and "loans" in wanted,
    )
