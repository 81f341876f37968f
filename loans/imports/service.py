"""Bank repayment files: stored at upload, posted in bulk by an arq job.

The job is idempotent (arq delivers at least once): rows already recorded for the import are skipped,
and each batch of rows is posted, with its outcomes, in one transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.errors import InvalidInput, NotFound
from loans.core.lanes import in_lanes
from loans.core.roles import Role
from loans.imports.models import ImportRow, RepaymentImport
from loans.imports.parsing import BankFileError, read_bank_file
from loans.imports.posting import ImportKeys, post_batch
from loans.regions.codes import RegionLevel, ancestor_code

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
            county_code=ancestor_code(self.actor.region_code, RegionLevel.COUNTY),
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
        """A bank's file covers the bank's loans in its county: read by that bank's liaisons and by the county's
        officers, auditors and admins; a township or village never sees it."""
        batch = await self.session.scalar(
            select(RepaymentImport).where(
                RepaymentImport.id == import_id,
                self.actor.covers(RepaymentImport.county_code, RepaymentImport.bank_code),
            )
        )
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


async def process_import(session: AsyncSession, import_id: UUID, today: date) -> RepaymentImport:
    """Post every row not yet recorded, batch by batch (the caller's session; commits per batch).

    Repeats within the file are settled first, over the whole file in file order; the remaining rows are cut
    into batches that never split a contract, so each loan is locked, read and written once per import.
    """
    batch = await session.get_one(RepaymentImport, import_id)
    if batch.status == "done":
        return batch
    batch.status = "running"
    await session.commit()
    try:
        frame = _settle_repeats(read_bank_file(batch.content, batch.filename, today))
    except BankFileError as exc:
        batch.status, batch.error, batch.finished_at = "failed", str(exc), datetime.now(UTC)
        await session.commit()
        return batch
    recorded = set(await session.scalars(select(ImportRow.row_no).where(ImportRow.import_id == import_id)))
    pending = frame.filter(~pl.col("row_no").is_in(list(recorded))) if recorded else frame
    keys = ImportKeys(batch.id, batch.bank_code, batch.uploaded_by)

    async def post(lane: AsyncSession, part: pl.DataFrame) -> None:
        await post_batch(lane, keys, part, today)
        await lane.commit()

    try:
        # two batches at a time: one's rows are allocated in Python while the other's are written; batches never
        # share a loan. The batches committed before a failure stay recorded, and the rerun skips them.
        await in_lanes(session, session.bind, _batches_by_contract(pending), post)
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


def _settle_repeats(frame: pl.DataFrame) -> pl.DataFrame:
    """A reference repeated in the file: the first well-formed row stands; a later one is a duplicate when it
    repeats the first's content, and rejected when it reuses the reference for something else."""
    valid = pl.col("reason").is_null()
    first = (
        frame.filter(valid)
        .group_by("bank_txn_ref", maintain_order=True)
        .agg(pl.col(c).first().alias(f"first_{c}") for c in ("row_no", "contract_no", "paid_on", "amount"))
    )
    same = (
        (pl.col("contract_no") == pl.col("first_contract_no"))
        & (pl.col("paid_on") == pl.col("first_paid_on"))
        & (pl.col("amount") == pl.col("first_amount"))
    )
    repeat = valid & pl.col("first_row_no").is_not_null() & (pl.col("row_no") != pl.col("first_row_no"))
    return (
        frame.join(first, on="bank_txn_ref", how="left")
        .with_columns(
            pl.when(repeat & same)
            .then(pl.lit("duplicate"))
            .when(repeat | ~valid)
            .then(pl.lit("rejected"))
            .alias("outcome"),
            pl.when(repeat & same)
            .then(pl.lit("repeated in the file / 文件内重复"))
            .when(repeat)
            .then(pl.lit("reference repeated with other content / 文件内流水号重复且内容不同"))
            .otherwise(pl.col("reason"))
            .alias("reason"),
        )
        .select("row_no", "contract_no", "bank_txn_ref", "paid_on", "amount", "reason", "outcome")
        .sort("row_no")
    )


def _batches_by_contract(frame: pl.DataFrame) -> list[pl.DataFrame]:
    """About BATCH_ROWS rows each, every contract's rows in one batch."""
    ordered = frame.sort("contract_no", "row_no", nulls_last=True)
    per_contract = ordered.group_by("contract_no", maintain_order=True).len()
    batch_of = per_contract.with_columns((pl.col("len").cum_sum() - pl.col("len")) // BATCH_ROWS).select(
        "contract_no", pl.col("len").alias("batch")
    )
    keyed = ordered.join(batch_of, on="contract_no", how="left", nulls_equal=True)
    return keyed.partition_by("batch", maintain_order=True, include_key=False) if keyed.height else []
