"""Imports — bank repayment files and existing loan books: stored at upload, posted in bulk by an arq job.

The job is idempotent (arq delivers at least once): rows already recorded for the import are skipped,
and each batch of rows is posted, with its outcomes, in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import polars as pl
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from loans.core.actor import Actor
from loans.core.errors import InvalidInput, NotFound
from loans.core.lanes import in_lanes
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role
from loans.imports.book import BookRow, book_rows, read_book
from loans.imports.book_posting import BookKeys, BookOutcome, post_book_batch
from loans.imports.models import ImportRow, RepaymentImport
from loans.imports.parsing import ImportFileError, read_bank_file
from loans.imports.posting import ImportKeys, post_batch
from loans.imports.template import loan_book_template
from loans.outbox.service import add as add_to_outbox
from loans.outbox.service import hand_over_soon
from loans.settings import Settings
from loans.users.models import User

BATCH_ROWS = 5000
MAX_FILE_BYTES = 50 * 1024 * 1024


# Who uploads an existing loan book.
BOOK_UPLOADERS = (Role.BANK_LIAISON, Role.COUNTY_OFFICER)


@dataclass
class ImportService:
    session: AsyncSession
    actor: Actor

    async def upload(self, filename: str, content: bytes, today: date) -> RepaymentImport:
        """A bank's repayment file, from one of its liaisons."""
        self.actor.require(Role.BANK_LIAISON)
        rows = _readable(lambda: read_bank_file(content, filename, today), content)
        return await self._store("repayments", filename, content, rows.height)

    async def book_template(self, today: date) -> bytes:
        """The loan book's template (XLSX), its example row filled in from the uploader's county."""
        self.actor.require(*BOOK_UPLOADERS)
        return await loan_book_template(self.session, self.actor, today)

    async def upload_book(self, filename: str, content: bytes) -> RepaymentImport:
        """An existing loan book: a bank liaison's loans of her bank, or a county officer's naming the bank on each
        row."""
        self.actor.require(*BOOK_UPLOADERS)
        bank_column = self.actor.role == Role.COUNTY_OFFICER
        rows = _readable(lambda: read_book(content, filename, bank_column=bank_column), content)
        return await self._store("loans", filename, content, rows.height)

    async def _store(self, kind: str, filename: str, content: bytes, total_rows: int) -> RepaymentImport:
        assert self.actor.region_code is not None  # liaisons and county officers have one
        batch = RepaymentImport(
            kind=kind,
            bank_code=self.actor.bank_code,
            county_code=ancestor_code(self.actor.region_code, RegionLevel.COUNTY),
            filename=filename,
            content_sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            status="queued",
            total_rows=total_rows,
            uploaded_by=self.actor.user_id,
        )
        self.session.add(batch)
        await self.session.flush()
        await add_to_outbox(self.session, "process_repayment_import", batch)
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

    async def history(self, limit: int = 50) -> list[RepaymentImport]:
        """The latest uploads the caller may see, newest first (their content is not read)."""
        query = (
            select(RepaymentImport)
            .options(defer(RepaymentImport.content))
            .where(self.actor.covers(RepaymentImport.county_code, RepaymentImport.bank_code))
            .order_by(RepaymentImport.created_at.desc())
            .limit(limit)
        )
        return list(await self.session.scalars(query))

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


async def queue_import(session: AsyncSession, redis: ArqRedis, batch: RepaymentImport) -> None:
    """The row and its outbox entry commit (no Redis needed), then the work is handed over if Redis answers;
    otherwise the dispatcher hands it over later."""
    await session.commit()
    await hand_over_soon(session, redis, batch.id)


def _readable(read: Callable[[], pl.DataFrame], content: bytes) -> pl.DataFrame:
    """The file read by ``read``, or 422 naming ``file``."""
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput("file", "larger than 50 MB", "文件超过 50 MB")
    try:
        return read()
    except ImportFileError as exc:
        raise InvalidInput("file", exc.message_en, exc.message_zh) from exc


PostPart = Callable[[AsyncSession, Any], Awaitable[None]]


async def process_import(
    session: AsyncSession, import_id: UUID, today: date, settings: Settings
) -> RepaymentImport:
    """Post every row not yet recorded, batch by batch, ``settings.lanes`` batches at a time (the caller's session
    and sessions of its own; each batch commits), then count the outcomes. ``settings`` also holds the applicant
    age limits a loan book is held to."""
    batch = await session.get_one(RepaymentImport, import_id)
    if batch.status == "done":
        return batch
    batch.status = "running"
    await session.commit()
    recorded = set(await session.scalars(select(ImportRow.row_no).where(ImportRow.import_id == import_id)))
    try:
        if batch.kind == "loans":
            parts, post = await _loan_book_parts(session, batch, recorded, today, settings)
        else:
            parts, post = _repayment_parts(batch, recorded, today)
    except ImportFileError as exc:
        batch.status, batch.error, batch.finished_at = "failed", str(exc), datetime.now(UTC)
        await session.commit()
        return batch

    async def post_and_commit(lane: AsyncSession, part: Any) -> None:
        await post(lane, part)
        await lane.commit()

    try:
        # batches side by side: one's rows are checked in Python while another's are written; batches never
        # share a loan or a woman. The batches committed before a failure stay recorded, and the rerun skips them.
        await in_lanes(session, session.bind, parts, post_and_commit, settings.lanes)
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
    batch.created = counts.get("created", 0)
    batch.duplicates = counts.get("duplicate", 0)
    batch.rejected = counts.get("rejected", 0)
    batch.status, batch.finished_at, batch.error = "done", datetime.now(UTC), None
    await session.commit()
    return batch


def _repayment_parts(
    batch: RepaymentImport, recorded: set[int], today: date
) -> tuple[list[pl.DataFrame], PostPart]:
    """Repeats within the file are settled first, over the whole file in file order; the remaining rows are cut
    into batches that never split a contract, so each loan is locked, read and written once per import."""
    frame = _settle_repeats(read_bank_file(batch.content, batch.filename, today))
    pending = frame.filter(~pl.col("row_no").is_in(list(recorded))) if recorded else frame
    keys = ImportKeys(batch.id, batch.bank_code, batch.uploaded_by)

    async def post(lane: AsyncSession, part: pl.DataFrame) -> None:
        await post_batch(lane, keys, part, today)

    return _batches_by_contract(pending), post


async def _loan_book_parts(
    session: AsyncSession, batch: RepaymentImport, recorded: set[int], today: date, settings: Settings
) -> tuple[list[tuple[list[BookRow], dict[int, BookOutcome]]], PostPart]:
    """Each row checked on its own, repeats within the file settled, and the rows cut into batches that never
    split a woman's rows (so that no two batches register her)."""
    uploader = await session.get_one(User, batch.uploaded_by)
    actor = Actor(
        uploader.id, uploader.username, Role(uploader.role), uploader.region_code, uploader.bank_code
    )
    frame = read_book(batch.content, batch.filename, bank_column=batch.bank_code is None)
    rows = book_rows(
        frame,
        today,
        bank_code=batch.bank_code,
        min_age=settings.applicant_min_age,
        max_age=settings.applicant_max_age,
    )
    decided = _settle_book_repeats(rows)
    keys = BookKeys(batch.id, actor)

    async def post(lane: AsyncSession, part: tuple[list[BookRow], dict[int, BookOutcome]]) -> None:
        await post_book_batch(lane, keys, *part, today)

    pending = [r for r in rows if r.row_no not in recorded]
    return _batches_by_woman(pending, decided), post


def _settle_book_repeats(rows: Sequence[BookRow]) -> dict[int, BookOutcome]:
    """The rows decided before the database is read: refused on their own, or repeating a contract (a duplicate
    when the loan is the same, else rejected) or a disbursement reference of an earlier row of the file."""
    decided: dict[int, BookOutcome] = {}
    contracts: dict[tuple[str | None, str | None], BookRow] = {}
    references: set[tuple[str | None, str | None]] = set()
    for row in rows:
        if row.reason is not None:
            decided[row.row_no] = BookOutcome(row.row_no, "rejected", row.reason)
            continue
        first = contracts.setdefault((row.bank_code, row.contract_no), row)
        if first is not row:
            same = (first.national_id, first.amount, first.disbursed_on) == (
                row.national_id,
                row.amount,
                row.disbursed_on,
            )
            decided[row.row_no] = (
                BookOutcome(row.row_no, "duplicate", "repeated in the file / 文件内重复")
                if same
                else BookOutcome(
                    row.row_no,
                    "rejected",
                    "contract_no: repeated with other content / 文件内合同编号重复且内容不同",
                )
            )
        elif (row.bank_code, row.bank_txn_ref) in references:
            decided[row.row_no] = BookOutcome(
                row.row_no, "rejected", "bank_txn_ref: repeated in the file / 文件内放款流水号重复"
            )
        references.add((row.bank_code, row.bank_txn_ref))
    return decided


def _batches_by_woman(
    rows: list[BookRow], decided: dict[int, BookOutcome]
) -> list[tuple[list[BookRow], dict[int, BookOutcome]]]:
    """About BATCH_ROWS rows each, every woman's rows to be checked in one batch, with the outcomes decided of its
    rows."""
    groups: dict[Any, list[BookRow]] = defaultdict(list)
    for row in rows:
        groups[row.row_no if row.row_no in decided else row.national_id].append(row)
    batches: list[list[BookRow]] = [[]]
    for group in groups.values():
        if batches[-1] and len(batches[-1]) + len(group) > BATCH_ROWS:
            batches.append([])
        batches[-1].extend(group)
    return [
        (part, {r.row_no: decided[r.row_no] for r in part if r.row_no in decided}) for part in batches if part
    ]


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
