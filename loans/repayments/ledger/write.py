"""The ledger's one write: a `Batch` of new repayments (with their allocation lines) and reversals, and what they
move on the installments and the loans, with the audit events, in one statement on the driver connection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
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
from loans.repayments.allocation import Allocation
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
    """What one transaction writes to the ledger, built entry by entry, as the arrays `write` sends."""

    author: Author
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    repayments: list[RepaymentEntry] = field(default_factory=list)
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
        entry = RepaymentEntry(
            uuid7(), loan_id, bank_code, bank_txn_ref, amount, paid_on, allocation.settles, source, import_id,
            posted_by, self.now, allocation.lines,
        )  # fmt: skip
        self.repayments.append(entry)
        self._move(entry, due_dates, sign=1)
        self.lines.extend(
            (entry.id, loan_id, paid_on, line.seq, line.penalty, line.interest, line.principal,
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
                msgspec.json.encode({"repayment_id": entry.id, **event}).decode(),
            )
        )
        return entry

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
        self._move(entry, due_dates, sign=-1)
        if status is not None:
            change = self.loans[entry.loan_id]
            change.status, change.settled_on = status, None

    def _move(self, entry: RepaymentEntry, due_dates: Mapping[int, date], sign: int) -> None:
        loan_id, paid_on, moved = entry.loan_id, entry.paid_on, self.moved
        for line in entry.lines:
            sums = moved.get((loan_id, line.seq))
            if sums is None:
                sums = moved[loan_id, line.seq] = [0] * len(_MOVED_FIELDS)
            sums[0] += sign * line.penalty
            sums[1] += sign * line.interest
            sums[2] += sign * line.principal
            sums[3] += sign * line.cancelled_interest
            sums[4] += sign * line.cancelled_subsidy
            if paid_on <= due_dates[line.seq]:
                sums[5] += sign * line.principal
        self.loans[loan_id].principal_paid += sign * sum(line.principal for line in entry.lines)

    def arguments(self) -> dict[str, Any]:
        def columns(names: Iterable[str], rows: list[tuple[Any, ...]], prefix: str) -> dict[str, list[Any]]:
            names = tuple(names)
            transposed = list(zip(*rows, strict=True)) if rows else [()] * len(names)
            return {f"{prefix}_{name}": list(values) for name, values in zip(names, transposed, strict=True)}

        loans = self.loans
        return {
            "now": self.now,
            **{
                f"r_{c}": [getattr(r, c) for r in self.repayments]
                for c in REPAYMENT_COLUMNS
                if c != "created_at"
            },
            **columns(("repayment_id", "loan_id", "paid_on", *LINE_FIELDS), self.lines, "a"),
            **columns(_REVERSAL_COLUMNS, self.reversals, "v"),
            "m_loan_id": [loan_id for loan_id, _ in self.moved],
            "m_seq": [seq for _, seq in self.moved],
            **columns(_MOVED_FIELDS, list(map(tuple, self.moved.values())), "m"),
            "l_id": list(loans),
            "l_principal_paid": [c.principal_paid for c in loans.values()],
            "l_status": [c.status for c in loans.values()],
            "l_settled_on": [c.settled_on for c in loans.values()],
            **columns(("loan_id", "action", "after"), self.events, "e"),
            "actor_id": self.author.actor_id,
            "actor": self.author.actor,
            "role": self.author.role,
        }

    def parts(self) -> frozenset[str]:
        """The parts of the write statement this batch needs (see `_statement`)."""
        held = {"repayment": self.repayments, "reversal": self.reversals, "allocation": self.lines,
                "installments": self.moved, "loans": self.loans, "events": self.events}  # fmt: skip
        return frozenset(name for name, rows in held.items() if rows)

    def __len__(self) -> int:
        return len(self.repayments) + len(self.reversals)


_REVERSAL_COLUMNS = ("id", "repayment_id", "loan_id", "reason", "reversed_on", "reversed_by")
_TYPES = {
    "id": "uuid", "loan_id": "uuid", "bank_code": "text", "bank_txn_ref": "text", "amount": "bigint",
    "paid_on": "date", "settles": "boolean", "source": "text", "import_id": "uuid", "posted_by": "uuid",
    "repayment_id": "uuid", "seq": "integer", "reason": "text", "reversed_on": "date", "reversed_by": "uuid",
    "principal_paid": "bigint", "status": "text", "settled_on": "date", "action": "text", "after": "text",
}  # fmt: skip


def _unnest(prefix: str, names: Iterable[str]) -> str:
    """The arrays ``:{prefix}_{name}`` as the rows of a subquery ``prefix``. Unnested in the select list (one
    ProjectSet) rather than as `unnest(a, b, …)` in FROM, whose function scan stores each array's rows first: that
    cost a posting 0.05 ms an array."""
    columns = ", ".join(f"unnest(CAST(:{prefix}_{n} AS {_TYPES.get(n, 'bigint')}[])) AS {n}" for n in names)
    return f"(SELECT {columns}) AS {prefix}"


_REPAYMENT_INSERTED = [c for c in REPAYMENT_COLUMNS if c != "created_at"]
_NOW = "CAST(:now AS timestamptz)"
_PAID_COLUMNS = {"penalty": "paid_penalty", "interest": "paid_interest", "principal": "paid_principal"}
_MOVED_SET = ",\n       ".join(
    f"{_PAID_COLUMNS.get(c, c)} = i.{_PAID_COLUMNS.get(c, c)} + m.{c}" for c in _MOVED_FIELDS
)
# The parts of the one statement, each written only when the batch holds its rows (a posting has no reversal, a
# reversal no new lines nor events here): every part left out was one more insert PostgreSQL set up for nothing,
# 0.05 ms of a posting. The foreign keys are checked at the statement's end, so allocation lines may refer to the
# repayments inserted beside them. Every write depends on the inserts' RETURNING (`written`): a batch of one whose
# bank reference is already posted, or whose repayment is already reversed, writes nothing.
_INSERTS = {
    "repayment": f"""
    INSERT INTO repayment ({", ".join(_REPAYMENT_INSERTED)}, created_at, updated_at)
    SELECT {", ".join(f"r.{c}" for c in _REPAYMENT_INSERTED)}, {_NOW}, {_NOW}
    FROM {_unnest("r", _REPAYMENT_INSERTED)}
    ON CONFLICT (bank_code, bank_txn_ref) DO NOTHING
    RETURNING id""",
    "reversal": f"""
    INSERT INTO repayment_reversal ({", ".join(_REVERSAL_COLUMNS)}, created_at, updated_at)
    SELECT {", ".join(f"v.{c}" for c in _REVERSAL_COLUMNS)}, {_NOW}, {_NOW}
    FROM {_unnest("v", _REVERSAL_COLUMNS)}
    ON CONFLICT (repayment_id) DO NOTHING
    RETURNING id""",
}
_WRITES = {
    "allocation": f"""
    INSERT INTO repayment_allocation (repayment_id, loan_id, paid_on, {", ".join(LINE_FIELDS)})
    SELECT a.* FROM {_unnest("a", ("repayment_id", "loan_id", "paid_on", *LINE_FIELDS))}
    WHERE EXISTS (SELECT FROM written)""",
    "installments": f"""
    UPDATE installment i SET {_MOVED_SET}
    FROM {_unnest("m", ("loan_id", "seq", *_MOVED_FIELDS))}
    WHERE i.loan_id = m.loan_id AND i.seq = m.seq AND EXISTS (SELECT FROM written)""",
    "loans": f"""
    UPDATE loan SET outstanding_principal = outstanding_principal - l.principal_paid,
           status = COALESCE(l.status, loan.status),
           settled_on = CASE WHEN l.status IS NULL THEN loan.settled_on ELSE l.settled_on END,
           updated_at = {_NOW}
    FROM {_unnest("l", ("id", "principal_paid", "status", "settled_on"))}
    WHERE loan.id = l.id AND EXISTS (SELECT FROM written)""",
    "events": f"""
    INSERT INTO audit_event (actor_id, actor, role, entity_type, entity_id, action, after)
    SELECT CAST(:actor_id AS uuid), :actor, :role, 'loan', CAST(e.loan_id AS text), e.action, CAST(e.after AS jsonb)
    FROM {_unnest("e", ("loan_id", "action", "after"))}
    WHERE EXISTS (SELECT FROM written)""",
}


@cache
def _statement(parts: frozenset[str]) -> DriverStatement:
    """The write of a batch holding ``parts`` (of _INSERTS and _WRITES), built once per combination."""
    inserts = [name for name in _INSERTS if name in parts]
    if len(inserts) == 1:  # the insert's own RETURNING: a CTE over it was one more materialized scan
        ctes = [f"written AS ({_INSERTS[inserts[0]]}\n)"]
    else:
        ctes = [f"{name} AS ({_INSERTS[name]}\n)" for name in inserts]
        ctes.append(f"written AS ({' UNION ALL '.join(f'SELECT id FROM {name}' for name in inserts)})")
    ctes += [f"{name} AS ({_WRITES[name]}\n)" for name in _WRITES if name in parts]
    return DriverStatement.of(text(f"WITH {', '.join(ctes)}\nSELECT id FROM written"))


class PartlyWritten(RuntimeError):
    """A batch of several entries some of which were written meanwhile (by another transaction): nothing of it
    may stand."""


async def write(connection: asyncpg.Connection, batch: Batch) -> bool:
    """Write ``batch`` in one statement: True if it was written, False if it was not (its one entry was posted or
    reversed already). A batch written only in part raises `PartlyWritten`, and its transaction must roll back."""
    if not len(batch):
        return True
    written = await _statement(batch.parts()).fetch(connection, batch.arguments())
    if len(written) == len(batch):
        return True
    if written:
        raise PartlyWritten(
            f"{len(batch) - len(written)} of the batch's {len(batch)} entries were already written"
        )
    if len(batch) > 1:
        raise PartlyWritten(f"the batch's {len(batch)} entries were already written")
    return False
