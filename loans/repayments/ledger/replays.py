"""What a value-dated replay changed, written on the driver connection: the standing repayments allocated again,
the installments and the penalty ledger from the replay's first day, each loan's balance, status and settlement
(value_dating.py computes the replay; the new repayments beside it are written by `write`)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg
import msgspec

from loans.money import fen_to_str
from loans.repayments.ledger.entries import LINE_FIELDS, Author
from loans.repayments.value_dating import WRITTEN_FIELDS, LoanReplay

_DELETE_LINES = "DELETE FROM repayment_allocation WHERE repayment_id = ANY($1::uuid[])"
_SET_SETTLES = """
UPDATE repayment r SET settles = u.settles FROM unnest($1::uuid[], $2::boolean[]) AS u(id, settles)
WHERE r.id = u.id AND r.settles IS DISTINCT FROM u.settles
"""
_STARTS = "unnest($1::uuid[], $2::date[]) AS s(loan_id, start)"
_WRITE_INSTALLMENTS = f"""
UPDATE installment i SET {", ".join(f"{name} = u.{name}" for name in WRITTEN_FIELDS)}
FROM unnest($1::uuid[], $2::int[], {", ".join(f"${n + 3}::bigint[]" for n in range(len(WRITTEN_FIELDS)))})
     AS u(loan_id, seq, {", ".join(WRITTEN_FIELDS)})
WHERE i.loan_id = u.loan_id AND i.seq = u.seq
"""
_DELETE_PENALTY = f"""
DELETE FROM penalty_accrual p USING {_STARTS} WHERE p.loan_id = s.loan_id AND p.accrual_date >= s.start
"""
# One row per closed business date of each span the replay booked: set-wise over the loans and the days.
_INSERT_PENALTY = """
INSERT INTO penalty_accrual (loan_id, seq, accrual_date, base, amount)
SELECT x.loan_id, x.seq, d.business_date, x.base, x.amount
FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::bigint[], $5::date[], $6::date[])
     AS x(loan_id, seq, base, amount, low, high)
JOIN business_day d ON d.business_date BETWEEN x.low AND x.high
"""
_WRITE_LOANS = """
UPDATE loan l SET outstanding_principal = u.outstanding, status = u.status, settled_on = u.settled_on,
       updated_at = now()
FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::date[]) AS u(id, outstanding, status, settled_on)
WHERE l.id = u.id
"""
_AUDIT_COLUMNS = ("actor_id", "actor", "role", "entity_type", "entity_id", "action", "after")


async def write_replays(raw: asyncpg.Connection, replays: Iterable[LoanReplay], author: Author) -> None:
    """Write what the replays changed, beyond the new repayments (written by `write`, with the lines the replay
    gave them): the re-allocated repayments' lines and `settles`, the installments, the penalty ledger from each
    replay's first day, each loan's balance, status and settlement, and an audit event per loan."""
    replays = [r for r in replays if r.conflict is None]
    if not replays:
        return
    reallocated = {loan.loan_id: loan.reallocated() for loan in replays}
    repayment_ids = [rid for allocations in reallocated.values() for rid in allocations]
    if repayment_ids:
        await raw.execute(_DELETE_LINES, repayment_ids)
        paid_on = {p.key: p.paid_on for loan in replays for p in loan.payments if p.standing}
        await raw.copy_records_to_table(
            "repayment_allocation",
            columns=("repayment_id", "loan_id", "paid_on", *LINE_FIELDS),
            records=[
                (rid, loan_id, paid_on[rid], *(getattr(line, name) for name in LINE_FIELDS))
                for loan_id, allocations in reallocated.items()
                for rid, allocation in allocations.items()
                for line in allocation.lines
            ],
        )
        await raw.execute(
            _SET_SETTLES,
            repayment_ids,
            [a.settles for allocations in reallocated.values() for a in allocations.values()],
        )
    changed = [(loan.loan_id, s) for loan in replays for s in loan.changed_installments()]
    if changed:
        await raw.execute(
            _WRITE_INSTALLMENTS,
            [loan_id for loan_id, _ in changed],
            [s.seq for _, s in changed],
            *([getattr(s, name) for _, s in changed] for name in WRITTEN_FIELDS),
        )
    await raw.execute(_DELETE_PENALTY, [loan.loan_id for loan in replays], [loan.start for loan in replays])
    rows = [(loan.loan_id, *row) for loan in replays for row in loan.penalty_rows]
    if rows:
        await raw.execute(_INSERT_PENALTY, *map(list, zip(*rows, strict=True)))
    await raw.execute(
        _WRITE_LOANS,
        [loan.loan_id for loan in replays],
        [loan.outstanding for loan in replays],
        [loan.final_status() for loan in replays],
        [loan.settled_on for loan in replays],
    )
    await raw.copy_records_to_table(
        "audit_event",
        columns=_AUDIT_COLUMNS,
        records=[
            (
                author.actor_id,
                author.actor,
                author.role,
                "loan",
                str(loan.loan_id),
                "value_dated_replay",
                msgspec.json.encode(
                    {
                        "from": loan.start,
                        "penalty_before": fen_to_str(loan.penalty_before),
                        "penalty_after": fen_to_str(loan.penalty_after),
                        "reallocated": list(reallocated[loan.loan_id]),
                    }
                ).decode(),
            )
            for loan in replays
        ],
    )
