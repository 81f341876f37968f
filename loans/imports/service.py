"""Bank repayment files: stored at upload, posted in bulk by an arq job.

The job is idempotent (arq delivers at least once): rows already recorded for the import are skipped,
and each batch of rows is posted, with its outcomes, in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import polars as pl
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from loans.audit.models import AuditEvent
from loans.core.actor import Actor
from loans.core.db import fresh, locked
from loans.core.errors import InvalidInput, NotFound
from loans.core.roles import Role
from loans.funds.compensation import record_recovery
from loans.imports.models import ImportRow, RepaymentImport
from loans.imports.parsing import BankFileError, read_bank_file
from loans.loans.delinquency import refresh_loans
from loans.loans.models import Loan, LoanInstallment
from loans.repayments.allocation import InstallmentState, Overpayment, allocate, apply_allocation
from loans.repayments.models import Repayment, RepaymentAllocation
from loans.repayments.service import POSTABLE_STATUSES, as_state

BATCH_ROWS = 5000
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class ImportService:
    session: AsyncSession
    actor: Actor

    async def upload(self, filename: str, content: bytes, today: date) -> RepaymentImport:
        self.actor.require(Role.BANK_LIAISON)
        if len(content) > MAX_FILE_BYTES:
            raise InvalidInput("file", "larger than 50 MB", "文件超过 50 MB")
        try:
            rows = read_bank_file(content, filename, today)
        except BankFileError as exc:
            raise InvalidInput("file", exc.message_en, exc.message_zh) from exc
        batch = RepaymentImport(
            bank_code=self.actor.bank_code,
            county_code=self.actor.region_code,
            filename=filename,
            content_sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            status="queued",
            total_rows=rows.height,
            uploaded_by=self.actor.user_id,
        )
        self.session.add(batch)
        await self.session.flush()
        return batch

    async def get(self, import_id: UUID) -> RepaymentImport:
        conditions = [RepaymentImport.id == import_id]
        if self.actor.role == Role.BANK_LIAISON:
            conditions.append(RepaymentImport.bank_code == self.actor.bank_code)
        if self.actor.region_code is not None:
            conditions.append(RepaymentImport.county_code == self.actor.region_code[:6].ljust(12, "0"))
        batch = await self.session.scalar(select(RepaymentImport).where(*conditions))
        if batch is None:
            raise NotFound("import", "导入批次", import_id)
        return batch

    async def rows(
        self, import_id: UUID, outcome: str | None, limit: int, offset: int
    ) -> tuple[list[ImportRow], int]:
        conditions = [ImportRow.import_id == import_id]
        if outcome:
            conditions.append(ImportRow.outcome == outcome)
        total = await self.session.scalar(select(func.count()).select_from(ImportRow).where(*conditions))
        rows = await self.session.scalars(
            select(ImportRow).where(*conditions).order_by(ImportRow.row_no).limit(limit).offset(offset)
        )
        return list(rows), int(total or 0)


@dataclass(frozen=True, slots=True)
class Outcome:
    row_no: int
    outcome: str
    reason: str | None = None
    repayment_id: UUID | None = None


async def process_import(session: AsyncSession, import_id: UUID, today: date) -> RepaymentImport:
    """Post every row not yet recorded, batch by batch (the caller's session; commits per batch)."""
    batch = await session.get_one(RepaymentImport, import_id)
    if batch.status == "done":
        return batch
    batch.status = "running"
    await session.commit()
    try:
        frame = read_bank_file(batch.content, batch.filename, today)
    except BankFileError as exc:
        batch.status, batch.error, batch.finished_at = "failed", str(exc), datetime.now(UTC)
        await session.commit()
        return batch
    recorded = set(await session.scalars(select(ImportRow.row_no).where(ImportRow.import_id == import_id)))
    pending = frame.filter(~pl.col("row_no").is_in(list(recorded))) if recorded else frame
    try:
        for start in range(0, pending.height, BATCH_ROWS):
            await _post_batch(session, batch, pending.slice(start, BATCH_ROWS), today)
            await session.commit()
    except Exception as exc:
        await session.rollback()
        batch = await session.get_one(RepaymentImport, import_id)
        batch.status, batch.error = "failed", f"{exc.__class__.__name__}: {exc}"
        await session.commit()
        raise
    counts = dict(
        (
            await session.execute(
                select(ImportRow.outcome, func.count())
                .where(ImportRow.import_id == import_id)
                .group_by(ImportRow.outcome)
            )
        ).all()
    )
    batch.posted = counts.get("posted", 0)
    batch.duplicates = counts.get("duplicate", 0)
    batch.rejected = counts.get("rejected", 0)
    batch.status, batch.finished_at = "done", datetime.now(UTC)
    await session.commit()
    return batch


async def _post_batch(
    session: AsyncSession, batch: RepaymentImport, frame: pl.DataFrame, today: date
) -> None:
    rows = frame.to_dicts()
    outcomes: dict[int, Outcome] = {
        r["row_no"]: Outcome(r["row_no"], "rejected", r["reason"]) for r in rows if r["reason"]
    }
    candidates = [r for r in rows if not r["reason"]]

    loans = {
        contract: (loan_id, status, disbursed_on)
        for contract, loan_id, status, disbursed_on in await session.execute(
            select(Loan.contract_no, Loan.id, Loan.status, Loan.disbursed_on).where(
                Loan.bank_code == batch.bank_code,
                Loan.contract_no.in_({r["contract_no"] for r in candidates}),
            )
        )
    }
    existing = {
        ref: (rid, loan_id, amount, paid_on)
        for ref, rid, loan_id, amount, paid_on in await session.execute(
            select(
                Repayment.bank_txn_ref, Repayment.id, Repayment.loan_id, Repayment.amount, Repayment.paid_on
            ).where(
                Repayment.bank_code == batch.bank_code,
                Repayment.bank_txn_ref.in_({r["bank_txn_ref"] for r in candidates}),
            )
        )
    }
    seen_in_file: dict[str, tuple[Any, ...]] = {}
    postable: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in candidates:
        loan = loans.get(row["contract_no"])
        content = (loan[0] if loan else None, row["amount"], row["paid_on"])
        ref = row["bank_txn_ref"]
        if ref in existing:
            rid, *first = existing[ref]
            same = tuple(first) == content
            outcomes[row["row_no"]] = (
                Outcome(row["row_no"], "duplicate", "already posted / 已入账", rid)
                if same
                else Outcome(
                    row["row_no"],
                    "rejected",
                    "reference already used with other content / 流水号已用于其他还款",
                )
            )
        elif ref in seen_in_file:
            same = seen_in_file[ref] == content
            outcomes[row["row_no"]] = Outcome(
                row["row_no"],
                "duplicate" if same else "rejected",
                "repeated in the file / 文件内重复"
                if same
                else "reference repeated with other content / 文件内流水号重复且内容不同",
            )
        elif loan is None:
            outcomes[row["row_no"]] = Outcome(
                row["row_no"], "rejected", "unknown contract number / 合同编号不存在"
            )
        elif loan[1] not in POSTABLE_STATUSES:
            outcomes[row["row_no"]] = Outcome(
                row["row_no"], "rejected", f"loan is {loan[1]} / 贷款状态为 {loan[1]}"
            )
        elif row["paid_on"] < loan[2]:
            outcomes[row["row_no"]] = Outcome(
                row["row_no"], "rejected", "paid before disbursement / 还款日期早于放款日期"
            )
        else:
            postable[loan[0]].append(row)
        seen_in_file.setdefault(ref, content)

    if postable:
        outcomes.update(await _allocate_and_write(session, batch, postable, today))
    await session.execute(
        insert(ImportRow),
        [
            {
                "import_id": batch.id,
                "row_no": r["row_no"],
                "contract_no": r["contract_no"],
                "bank_txn_ref": r["bank_txn_ref"],
                "paid_on": r["paid_on"],
                "amount": r["amount"],
                "outcome": outcomes[r["row_no"]].outcome,
                "reason": outcomes[r["row_no"]].reason,
                "repayment_id": outcomes[r["row_no"]].repayment_id,
            }
            for r in rows
        ],
    )


async def _allocate_and_write(
    session: AsyncSession, batch: RepaymentImport, postable: dict[UUID, list[dict[str, Any]]], today: date
) -> dict[int, Outcome]:
    """Lock the batch's loans (one statement), allocate each loan's rows in date order in memory,
    then write repayments, allocations, installments and loans in bulk."""
    loan_ids = sorted(postable, key=str)
    loans_by_id = {
        loan.id: loan
        for loan in await session.scalars(locked(select(Loan).where(Loan.id.in_(loan_ids)).order_by(Loan.id)))
    }
    states: dict[UUID, list[InstallmentState]] = defaultdict(list)
    for row in await session.scalars(
        fresh(
            select(LoanInstallment).where(LoanInstallment.loan_id.in_(loan_ids)).order_by(LoanInstallment.seq)
        )
    ):
        states[row.loan_id].append(as_state(row))

    outcomes: dict[int, Outcome] = {}
    repayments, lines, events, settled = [], [], [], {}
    principal_paid: dict[UUID, int] = defaultdict(int)
    for loan_id in loan_ids:
        loan = loans_by_id[loan_id]
        for row in sorted(postable[loan_id], key=lambda r: (r["paid_on"], r["row_no"])):
            if loan_id in settled:
                outcomes[row["row_no"]] = Outcome(
                    row["row_no"], "rejected", "loan already settled / 贷款已结清"
                )
                continue
            try:
                allocation = allocate(states[loan_id], row["amount"], row["paid_on"], loan.subsidy_share)
            except Overpayment as exc:
                outcomes[row["row_no"]] = Outcome(
                    row["row_no"],
                    "rejected",
                    f"exceeds the outstanding {exc.payoff / 100:.2f} / 超过应还总额",
                )
                continue
            states[loan_id] = apply_allocation(states[loan_id], allocation)
            repayment_id = uuid7()
            repayments.append(
                {
                    "id": repayment_id,
                    "loan_id": loan_id,
                    "bank_code": batch.bank_code,
                    "bank_txn_ref": row["bank_txn_ref"],
                    "amount": row["amount"],
                    "paid_on": row["paid_on"],
                    "settles": allocation.settles,
                    "source": "import",
                    "import_id": batch.id,
                    "posted_by": batch.uploaded_by,
                }
            )
            lines.extend(
                {
                    "repayment_id": repayment_id,
                    "loan_id": loan_id,
                    "seq": line.seq,
                    "penalty": line.penalty,
                    "interest": line.interest,
                    "principal": line.principal,
                    "cancelled_interest": line.cancelled_interest,
                    "cancelled_subsidy": line.cancelled_subsidy,
                }
                for line in allocation.lines
            )
            principal_paid[loan_id] += sum(line.principal for line in allocation.lines)
            if loan.status == "compensated":
                await record_recovery(session, loan, row["amount"], row["paid_on"], row["bank_txn_ref"])
            if allocation.settles:
                settled[loan_id] = (
                    row["paid_on"],
                    "recovered" if loan.status == "compensated" else "settled",
                )
            events.append(
                {
                    "actor_id": batch.uploaded_by,
                    "actor": "import",
                    "role": Role.BANK_LIAISON,
                    "entity_type": "loan",
                    "entity_id": str(loan_id),
                    "action": "post_repayment",
                    "after": {
                        "repayment_id": str(repayment_id),
                        "amount": row["amount"],
                        "import_id": str(batch.id),
                        "bank_txn_ref": row["bank_txn_ref"],
                        "paid_on": row["paid_on"].isoformat(),
                    },
                }
            )
            outcomes[row["row_no"]] = Outcome(row["row_no"], "posted", None, repayment_id)

    if repayments:
        now = datetime.now(UTC)
        await session.execute(
            insert(Repayment), [{**r, "created_at": now, "updated_at": now} for r in repayments]
        )
        await session.execute(insert(RepaymentAllocation), lines)
        await session.execute(insert(AuditEvent), events)
        await _write_installments(session, states, {line["loan_id"] for line in lines})
        t = Loan.__table__.c
        await session.execute(
            update(Loan.__table__)
            .where(t.id == bindparam("b_id"))
            .values(
                outstanding_principal=t.outstanding_principal - bindparam("b_paid"),
            ),
            [{"b_id": loan_id, "b_paid": paid} for loan_id, paid in principal_paid.items()],
        )
        if settled:
            await session.execute(
                update(Loan.__table__)
                .where(t.id == bindparam("b_id"))
                .values(status=bindparam("b_status"), settled_on=bindparam("b_on")),
                [
                    {"b_id": loan_id, "b_on": on, "b_status": status}
                    for loan_id, (on, status) in settled.items()
                ],
            )
        await refresh_loans(session, list(principal_paid), today)
    return outcomes


async def _write_installments(
    session: AsyncSession, states: dict[UUID, list[InstallmentState]], loan_ids: set[UUID]
) -> None:
    i = LoanInstallment.__table__.c
    await session.execute(
        update(LoanInstallment.__table__)
        .where(i.loan_id == bindparam("b_loan_id"), i.seq == bindparam("b_seq"))
        .values(
            paid_penalty=bindparam("b_paid_penalty"),
            paid_interest=bindparam("b_paid_interest"),
            paid_principal=bindparam("b_paid_principal"),
            cancelled_interest=bindparam("b_cancelled_interest"),
            cancelled_subsidy=bindparam("b_cancelled_subsidy"),
        ),
        [
            {
                "b_loan_id": loan_id,
                "b_seq": s.seq,
                "b_paid_penalty": s.paid_penalty,
                "b_paid_interest": s.paid_interest,
                "b_paid_principal": s.paid_principal,
                "b_cancelled_interest": s.cancelled_interest,
                "b_cancelled_subsidy": s.cancelled_subsidy,
            }
            for loan_id in loan_ids
            for s in states[loan_id]
        ],
    )
