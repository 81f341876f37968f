"""The ledger's one write: a `Batch` of new repayments (with their allocation lines) and reversals, and what they
move on the installments and the loans, with the audit events, in one statement on the driver connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from sqlalchemy import text
from uuid_utils.compat import uuid7

from loans.core.driver import DriverStatement
from loans.repayments.allocation import Allocation, AllocationLine
from loans.repayments.ledger.entries import LINE_FIELDS, REPAYMENT_COLUMNS, Author, RepaymentEntry

# what a line moves on its installment: its amounts, and the principal paid by the installment's due date
_MOVED_FIELDS = (*LINE_FIELDS[1:], "on_time_principal")


@dataclass(slots=True)
class _LoanChange:
    principal_paid: int = 0
    status: str | None = None  # None: unchanged (and so is the settlement date)
    settled_on: date | None = None


@dataclass(slots=True)
class Batch:
    """What one transaction writes to the ledger, built entry by entry, as the rows `write` sends."""

    author: Author
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    repayments: list[tuple[Any, ...]] = field(default_factory=list)  # _REPAYMENT_INSERTED
    lines: list[tuple[Any, ...]] = field(default_factory=list)  # repayment, loan, paid on, then LINE_FIELDS
    reversals: list[tuple[Any, ...]] = field(default_factory=list)  # id, repayment, loan, reason, on, by
    moved: dict[tuple[UUID, int], list[int]] = field(default_factory=dict)  # (loan, seq) -> _MOVED_FIELDS
    loans: dict[UUID, _LoanChange] = field(default_factory=lambda: defaultdict(_LoanChange))
    events: list[tuple[Any, ...]] = field(default_factory=list)  # loan, action, after (json)

    def post(
        self,
        loan_id: UUID,
        bank_code: str,
        bank_txn_ref: str,
        amount: int,
        paid_on: date,
        allocation: Allocation,
        due_dates: Mapping[int, date],
        *,
        source: str,
        import_id: UUID | None = None,
        posted_by: UUID | None,
        settled_status: str | None,
        event: dict[str, Any],
    ) -> RepaymentEntry:
        """A new repayment allocated by ``allocation`` over installments due on ``due_dates`` (by seq); a payment
        that settles the loan gives it ``settled_status``. The audit event's ``after`` is ``event`` with the
        repayment's id first."""
        repayment_id = uuid7()
        row = (repayment_id, loan_id, bank_code, bank_txn_ref, amount, paid_on, allocation.settles, source, import_id,
               posted_by)  # fmt: skip
        # a row, not the entry (whose lines are objects): every object a bank file's batch of 5,000 holds is walked
        # by the garbage collector's full collections, and brings the next one sooner
        self.repayments.append(row)
        self._move(loan_id, paid_on, allocation.lines, due_dates, sign=1)
        self.lines.extend(
            (repayment_id, loan_id, paid_on, line.seq, line.penalty, line.interest, line.principal,
             line.cancelled_interest, line.cancelled_subsidy)
            for line in allocation.lines
        )  # fmt: skip
        if allocation.settles and settled_status is not None:
            change = self.loans[loan_id]
            change.status, change.settled_on = settled_status, paid_on
        self.events.append(
            (
                loan_id,
                "post_repayment",
                msgspec.json.encode({"repayment_id": repayment_id, **event}).decode(),
            )
        )
        return RepaymentEntry(*row, self.now, allocation.lines)

    def reverse(
        self,
        entry: RepaymentEntry,
        due_dates: Mapping[int, date],
        reason: str,
        reversed_on: date,
        reversed_by: UUID | None,
        status: str | None,
    ) -> None:
        """The reversal of ``entry``: its lines taken back, and the loan given ``status`` (None: unchanged) without
        a settlement date."""
        self.reversals.append((uuid7(), entry.id, entry.loan_id, reason, reversed_on, reversed_by))
        self._move(entry.loan_id, entry.paid_on, entry.lines, due_dates, sign=-1)
        if status is not None:
            change = self.loans[entry.loan_id]
            change.status, change.settled_on = status, None

    def _move(
        self,
        loan_id: UUID,
        paid_on: date,
        lines: list[AllocationLine],
        due_dates: Mapping[int, date],
        sign: int,
    ) -> None:
        moved, principal = self.moved, 0
        for line in lines:
            key = (loan_id, line.seq)
            on_time = line.principal if paid_on <= due_dates[line.seq] else 0
            sums = moved.get(key)
            if sums is None:
                moved[key] = [
                    sign * line.penalty, sign * line.interest, sign * line.principal, sign * line.cancelled_interest,
                    sign * line.cancelled_subsidy, sign * on_time,
                ]  # fmt: skip
            else:
                sums[0] += sign * line.penalty
                sums[1] += sign * line.interest
                sums[2] += sign * line.principal
                sums[3] += sign * line.cancelled_interest
                sums[4] += sign * line.cancelled_subsidy
                sums[5] += sign * on_time
            principal += line.principal
        self.loans[loan_id].principal_paid += sign * principal

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of each part of the write statement this batch holds (see `_PARTS`), none empty."""
        rows = {
            "repayment": self.repayments,
            "reversal": self.reversals,
            "allocation": self.lines,
            "installments": [(loan_id, seq, *sums) for (loan_id, seq), sums in self.moved.items()],
            "loans": [(i, c.principal_paid, c.status, c.settled_on) for i, c in self.loans.items()],
            "events": self.events,
        }
        return {part: part_rows for part, part_rows in rows.items() if part_rows}

    def author_arguments(self) -> dict[str, Any]:
        """The statement's parameters that are not rows: the time and the audit events' author."""
        author = self.author
        return {"now": self.now, "actor_id": author.actor_id, "actor": author.actor, "role": author.role}

    def __len__(self) -> int:
        return len(self.repayments) + len(self.reversals)


_REVERSAL_COLUMNS = ("id", "repayment_id", "loan_id", "reason", "reversed_on", "reversed_by")
_TYPES = {
    "id": "uuid", "loan_id": "uuid", "bank_code": "text", "bank_txn_ref": "text", "amount": "bigint",
    "paid_on": "date", "settles": "boolean", "source": "text", "import_id": "uuid", "posted_by": "uuid",
    "repayment_id": "uuid", "seq": "integer", "reason": "text", "reversed_on": "date", "reversed_by": "uuid",
    "principal_paid": "bigint", "status": "text", "settled_on": "date", "action": "text", "after": "text",
}  # fmt: skip


_REPAYMENT_INSERTED = tuple(c for c in REPAYMENT_COLUMNS if c != "created_at")
# each part's rows: the alias the statement reads them by, and their columns
_PARTS = {
    "repayment": ("r", _REPAYMENT_INSERTED),
    "reversal": ("v", _REVERSAL_COLUMNS),
    "allocation": ("a", ("repayment_id", "loan_id", "paid_on", *LINE_FIELDS)),
    "installments": ("m", ("loan_id", "seq", *_MOVED_FIELDS)),
    "loans": ("l", ("id", "principal_paid", "status", "settled_on")),
    "events": ("e", ("loan_id", "action", "after")),
}


def _unnested(part: str) -> str:
    """The part's rows sent as one array a column, ``:{alias}_{column}``, as the rows of a subquery. Unnested in the
    select list (one ProjectSet) rather than as `unnest(a, b, …)` in FROM, whose function scan stores each array's
    rows first: that cost a posting 0.05 ms an array."""
    alias, names = _PARTS[part]
    columns = ", ".join(f"unnest(CAST(:{alias}_{n} AS {_TYPES.get(n, 'bigint')}[])) AS {n}" for n in names)
    return f"(SELECT {columns}) AS {alias}"


def _copied(part: str) -> str:
    """The part's rows COPYed into the session's table of them (`_copy`)."""
    return f"{_TABLE}{part} AS {_PARTS[part][0]}"


_TABLE = "ledger_"  # the prefix of the session's temporary tables of a large batch's rows
_NOW = "CAST(:now AS timestamptz)"
_PAID_COLUMNS = {"penalty": "paid_penalty", "interest": "paid_interest", "principal": "paid_principal"}
_MOVED_SET = ",\n       ".join(
    f"{_PAID_COLUMNS.get(c, c)} = i.{_PAID_COLUMNS.get(c, c)} + m.{c}" for c in _MOVED_FIELDS
)
# The parts of the one statement, each written only when the batch holds its rows (a posting has no reversal, a
# reversal no new lines nor events here): every part left out was one more insert PostgreSQL set up for nothing,
# 0.05 ms of a posting. The foreign keys are checked at the statement's end, so allocation lines may refer to the
# repayments inserted beside them. Every write depends on the inserts' RETURNING (`written`): a batch of one whose
# bank reference is already posted, or whose repayment is already reversed, writes nothing (`{conflict}`, `_CONFLICTS`).
# `{rows}`: where the part's rows come from (`_unnested` or `_copied`).
_INSERTS = {
    "repayment": f"""
    INSERT INTO repayment ({", ".join(_REPAYMENT_INSERTED)}, created_at, updated_at)
    SELECT {", ".join(f"r.{c}" for c in _REPAYMENT_INSERTED)}, {_NOW}, {_NOW}
    FROM {{rows}}{{conflict}}
    RETURNING id""",
    "reversal": f"""
    INSERT INTO repayment_reversal ({", ".join(_REVERSAL_COLUMNS)}, created_at, updated_at)
    SELECT {", ".join(f"v.{c}" for c in _REVERSAL_COLUMNS)}, {_NOW}, {_NOW}
    FROM {{rows}}{{conflict}}
    RETURNING id""",
}
# What the insert of a batch of one skips rather than fails on: a repeated posting or reversal writes nothing, and
# the service answers with the first. A batch of several inserts without it and fails on the unique index, which
# refuses the whole batch (`PartlyWritten`): a conflict skipped there left its allocation lines to fail on their
# foreign key, and the speculative insertion ON CONFLICT needs cost PostgreSQL 0.45 s of CPU per 100,000-row bank
# file (7.16 -> 6.72 s).
_CONFLICTS = {"repayment": "(bank_code, bank_txn_ref)", "reversal": "(repayment_id)"}
_WRITES = {
    "allocation": f"""
    INSERT INTO repayment_allocation (repayment_id, loan_id, paid_on, {", ".join(LINE_FIELDS)})
    SELECT a.* FROM {{rows}}
    WHERE EXISTS (SELECT FROM written)""",
    "installments": f"""
    UPDATE installment i SET {_MOVED_SET}
    FROM {{rows}}
    WHERE i.loan_id = m.loan_id AND i.seq = m.seq AND EXISTS (SELECT FROM written)""",
    "loans": f"""
    UPDATE loan SET outstanding_principal = outstanding_principal - l.principal_paid,
           status = COALESCE(l.status, loan.status),
           settled_on = CASE WHEN l.status IS NULL THEN loan.settled_on ELSE l.settled_on END,
           updated_at = {_NOW}
    FROM {{rows}}
    WHERE loan.id = l.id AND EXISTS (SELECT FROM written)""",
    "events": """
    INSERT INTO audit_event (actor_id, actor, role, entity_type, entity_id, action, after)
    SELECT CAST(:actor_id AS uuid), :actor, :role, 'loan', CAST(e.loan_id AS text), e.action, CAST(e.after AS jsonb)
    FROM {rows}
    WHERE EXISTS (SELECT FROM written)""",
}


@cache
def _statement(parts: frozenset[str], copied: bool, alone: bool) -> DriverStatement:
    """The write of a batch holding ``parts`` (of _INSERTS and _WRITES), its rows unnested from arrays or, if
    ``copied``, read from the session's tables of them, its entry skipped if written already if it is ``alone``;
    built once per combination."""
    rows = _copied if copied else _unnested

    def part(name: str, sql: str) -> str:
        conflict = f"\n    ON CONFLICT {_CONFLICTS[name]} DO NOTHING" if alone and name in _CONFLICTS else ""
        return sql.replace("{rows}", rows(name)).replace("{conflict}", conflict)

    inserts = [name for name in _INSERTS if name in parts]
    if len(inserts) == 1:  # the insert's own RETURNING: a CTE over it was one more materialized scan
        ctes = [f"written AS ({part(inserts[0], _INSERTS[inserts[0]])}\n)"]
    else:
        ctes = [f"{name} AS ({part(name, _INSERTS[name])}\n)" for name in inserts]
        ctes.append(f"written AS ({' UNION ALL '.join(f'SELECT id FROM {name}' for name in inserts)})")
    ctes += [f"{name} AS ({part(name, _WRITES[name])}\n)" for name in _WRITES if name in parts]
    # the count, not the ids: a bank file's 100,000 ids were as many records and UUIDs decoded for nothing
    return DriverStatement.of(text(f"WITH {', '.join(ctes)}\nSELECT count(*) FROM written"))


# From this many entries a batch's rows are COPYed into temporary tables rather than sent as arrays: asyncpg checks
# every element of an array parameter against three abstract base classes (`array_encode`), 5.6 million checks and
# ~3 s of the event loop's CPU for a 100,000-row bank file at 10k loans, where COPY encodes the same rows by their
# columns' codecs alone. The COPY costs a round trip a part, nothing for a posting's batch of one.
COPIED_FROM = 100


@cache
def _tables(parts: frozenset[str]) -> str:
    """The session's tables of the parts' rows, created the first time (they stay with the connection, and are
    emptied at every commit), emptied of any earlier batch of this transaction."""
    tables = []
    for name in _PARTS:
        if name in parts:
            columns = ", ".join(f"{c} {_TYPES.get(c, 'bigint')}" for c in _PARTS[name][1])
            tables.append(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_TABLE}{name} ({columns}) ON COMMIT DELETE ROWS;\n"
                          f"DELETE FROM {_TABLE}{name};")  # fmt: skip
    return "\n".join(tables)


async def _copy(connection: asyncpg.Connection, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    await connection.execute(_tables(frozenset(rows)))
    for name, part_rows in rows.items():
        await connection.copy_records_to_table(f"{_TABLE}{name}", columns=_PARTS[name][1], records=part_rows)


def _arrays(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[Any]]:
    """Each part's rows as one array a column, by the names the unnesting statement gives them."""
    arrays = {}
    for name, part_rows in rows.items():
        alias, columns = _PARTS[name]
        for column, values in zip(columns, zip(*part_rows, strict=True), strict=True):
            arrays[f"{alias}_{column}"] = list(values)
    return arrays


class PartlyWritten(RuntimeError):
    """A batch of several entries one of which was written meanwhile (by another transaction): nothing of it may
    stand."""


async def write(connection: asyncpg.Connection, batch: Batch) -> bool:
    """Write ``batch`` in one statement: True if it was written, False if it was not (its one entry was posted or
    reversed already). A batch of several one of whose entries was written already raises `PartlyWritten`, and its
    transaction must roll back."""
    if not len(batch):
        return True
    rows, copied = batch.rows(), len(batch) >= COPIED_FROM
    if copied:
        await _copy(connection, rows)
        arguments = batch.author_arguments()
    else:
        arguments = batch.author_arguments() | _arrays(rows)
    alone = len(batch) == 1
    try:
        (written,) = await _statement(frozenset(rows), copied, alone).fetchrow(connection, arguments)
    except asyncpg.UniqueViolationError as exc:
        if alone:
            raise
        raise PartlyWritten(f"an entry of the batch's {len(batch)} was written already: {exc}") from exc
    return written == len(batch)
