"""Each loan's history up to today: repayments, their allocations, reversals and penalty interest, following
loans/repayments/allocation.py (tests replay every repayment through ``allocate``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from loans.bulk.frames import Rng, at_time
from loans.lending.delinquency import DUE_FIGURES
from loans.lending.schedule_frame import half_up, schedule_frame
from loans.repayments.allocation import InstallmentState, allocate, payoff_amount


@dataclass
class History:
    """Frames keyed by ``loan`` (row number of the plan) and ``rep`` (row number of the repayment, in the order
    repayments were created): installments with what was paid on them and their status; repayments (amount,
    paid_on, settles, created_at); allocations (rep, seq, penalty, interest, principal, cancelled_*);
    reversals (rep, reversed_on); penalties (loan, seq, accrual_date, base, amount); loans (status, settled_on,
    outstanding_principal)."""

    installments: pl.DataFrame
    repayments: pl.DataFrame
    allocations: pl.DataFrame
    reversals: pl.DataFrame
    penalties: pl.DataFrame
    loans: pl.DataFrame


def history(loans: pl.DataFrame, rng: Rng, today: date, due_through: date) -> History:
    """Apply each loan's behaviour to its schedule, up to ``today``; the loans' due sums are those of their
    installments due by ``due_through`` (the last closed business date)."""
    c, day = pl.col, lambda n: pl.duration(days=n)
    x = schedule_frame(loans).join(
        loans.select(
            "loan",
            "behaviour",
            "late_days",
            "partial_back",
            "partial_f",
            "prepay_on",
            "reversal_u",
            "rate_u",
            "markup_u",
            "subsidy_u",
        ),
        on="loan",
    )
    key, beh, due = c("loan") * 64 + c("seq"), c("behaviour"), c("due_date")
    owes = c("principal") + c("borrower_interest") > 0
    payable = owes & (due <= today)
    x = x.with_columns(
        owed=c("principal") + c("borrower_interest"),
        is_last=c("seq") == c("seq").max().over("loan"),
        payable=payable,
        rank=payable.cast(pl.Int64).cum_sum().over("loan"),
        due_count=payable.sum().over("loan"),
    ).with_columns(
        rank2=(c("payable") & ~c("is_last")).cast(pl.Int64).cum_sum().over("loan"),
        count2=(c("payable") & ~c("is_last")).sum().over("loan"),
        target=pl.max_horizontal(1, c("due_count") - c("partial_back")),
    )
    on_time_like = (
        beh.is_in(["on_time", "reversed"])
        | ((beh == "prepaid") & (c("prepay_on").is_null() | (due < c("prepay_on"))))
        | ((beh == "partial") & (c("rank") < c("target")))
    )
    early = (
        pl.when((beh == "on_time") & ~c("is_last"))
        .then(rng.pick(key, 30, {0: 0.6, 1: 0.2, 2: 0.1, 3: 0.1}))
        .otherwise(0)
    )
    partial_amount = (
        pl.when(c("principal") > 0)
        .then(
            c("borrower_interest")
            + pl.max_horizontal(1, (c("principal") * c("partial_f")).floor().cast(pl.Int64))
        )
        .otherwise(pl.max_horizontal(1, (c("borrower_interest") * c("partial_f")).floor().cast(pl.Int64)))
    )
    x = x.with_columns(
        full_on=pl.when(c("payable") & on_time_like)
        .then(pl.max_horizontal(due - day(early), c("period_start")))
        .when(owes & (beh == "late") & (due + day(c("late_days")) <= today))
        .then(due + day(c("late_days"))),
        partial_on=pl.when(c("payable") & (beh == "partial") & (c("rank") == c("target"))).then(due),
        partial_amount=partial_amount,
    )
    full, part = c("full_on").is_not_null(), c("partial_on").is_not_null()
    late_paid = full & (beh == "late")
    unpaid = owes & (due < today) & ~full & (beh != "prepaid")
    base = pl.when(part).then(c("owed") - c("partial_amount")).otherwise(c("owed"))
    days = (
        pl.when(late_paid)
        .then(c("late_days") - 1)
        .when(unpaid)
        .then((pl.lit(today) - due).dt.total_days() - 1)
    )
    x = (
        x.with_columns(
            base=base,
            days=days.otherwise(0),
            accrual_date=pl.when(late_paid).then(c("full_on") - day(1)).otherwise(pl.lit(today) - day(1)),
            part_interest=pl.when(part)
            .then(pl.min_horizontal(c("partial_amount"), c("borrower_interest")))
            .otherwise(0),
        )
        .with_columns(
            penalty_accrued=c("days")
            * half_up(c("base") * c("rate_u") * (10_000 + c("markup_u")), 360 * 10**10),
            paid_principal=pl.when(full)
            .then(c("principal"))
            .when(part)
            .then(c("partial_amount") - c("part_interest"))
            .otherwise(0),
            paid_interest=pl.when(full).then(c("borrower_interest")).otherwise(c("part_interest")),
        )
        .with_columns(
            paid_penalty=pl.when(full).then(c("penalty_accrued")).otherwise(0),
            cancelled_interest=pl.lit(0, pl.Int64),
            cancelled_subsidy=pl.lit(0, pl.Int64),
        )
    )

    paid = x.filter(full | part).with_columns(
        paid_on=pl.coalesce("full_on", "partial_on"),
        settles=full & c("is_last"),
        amount=c("paid_principal") + c("paid_interest") + c("paid_penalty"),
        reversed_on=pl.when(
            (beh == "reversed")
            & (c("count2") > 0)
            & ~c("is_last")
            & (c("rank2") == 1 + (c("reversal_u") * c("count2")).floor().cast(pl.Int64))
        ).then(pl.min_horizontal(pl.lit(today), due + day(rng.int(key, 31, 1, 3)))),
        minute=rng.int(key, 32, 9 * 60, 17 * 60),
    )
    prepaid_repayments, prepaid_lines = _prepayments(x.filter((beh == "prepaid") & (c("prepay_on") <= today)))
    deltas = ["paid_principal", "paid_interest", "cancelled_interest", "cancelled_subsidy"]
    if prepaid_lines.height:
        sums = prepaid_lines.group_by("loan", "seq").agg(pl.col(d).sum().alias(f"d_{d}") for d in deltas)
        x = x.join(sums, on=["loan", "seq"], how="left").with_columns(
            (c(d) + c(f"d_{d}").fill_null(0)).alias(d) for d in deltas
        )
    # Mistaken repayments, reversed a few days later; the correct one is posted after the reversal.
    mistaken = paid.filter(c("reversed_on").is_not_null())
    repayments = (
        pl.concat(
            [
                paid.select(
                    "loan",
                    "seq",
                    "amount",
                    "paid_on",
                    "settles",
                    created_at=pl.when(c("reversed_on").is_null())
                    .then(at_time(c("paid_on"), c("minute")))
                    .otherwise(at_time(c("reversed_on"), pl.lit(630))),
                ),
                mistaken.select(
                    "loan",
                    "seq",
                    "amount",
                    "paid_on",
                    settles=pl.lit(False),
                    created_at=at_time(c("paid_on"), pl.lit(570)),
                ),
                prepaid_repayments.select(
                    "loan",
                    pl.lit(None, pl.Int64).alias("seq"),
                    "amount",
                    "paid_on",
                    settles=pl.lit(True),
                    created_at=at_time(c("paid_on"), pl.lit(600)),
                ),
            ],
            how="vertical_relaxed",
        )
        .with_row_index("pos")
        .with_columns(c("pos").cast(pl.Int64))
    )
    # Ids (and bank references) follow creation time: rows in that order append to the indexes' right edge.
    repayments = repayments.sort("created_at").with_row_index("rep").with_columns(c("rep").cast(pl.Int64))
    positions = repayments.select("pos", "rep")
    n_paid, n_mistaken = paid.height, mistaken.height
    lines = ["penalty", "interest", "principal", "cancelled_interest", "cancelled_subsidy"]
    normal = paid.select(
        "loan",
        "seq",
        penalty="paid_penalty",
        interest="paid_interest",
        principal="paid_principal",
        cancelled_interest="cancelled_interest",
        cancelled_subsidy="cancelled_subsidy",
    )
    allocations = (
        pl.concat(
            [
                normal.with_columns(pos=pl.int_range(0, pl.len(), dtype=pl.Int64)),
                normal.filter(paid["reversed_on"].is_not_null()).with_columns(
                    pos=pl.int_range(n_paid, n_paid + pl.len(), dtype=pl.Int64)
                ),
                prepaid_lines.select(
                    "loan",
                    "seq",
                    *[
                        c(f"paid_{d}" if d in ("interest", "principal") else d).alias(d)
                        for d in lines
                        if d != "penalty"
                    ],
                    penalty=pl.lit(0, pl.Int64),
                ).join(repayments.filter(c("seq").is_null()).select("loan", "pos"), on="loan"),
            ],
            how="diagonal_relaxed",
        )
        .join(positions, on="pos")
        .select("rep", "loan", "seq", *lines)
        .sort("rep")
    )
    reversals = (
        mistaken.select("loan", "reversed_on", created_at=at_time(c("reversed_on"), pl.lit(600)))
        .with_columns(pos=pl.int_range(n_paid, n_paid + n_mistaken, dtype=pl.Int64))
        .join(positions, on="pos")
        .drop("pos")
    )

    left = (
        (c("principal") - c("paid_principal"))
        + (c("borrower_interest") - c("cancelled_interest") - c("paid_interest"))
        + (c("penalty_accrued") - c("paid_penalty"))
    )
    on_time = (
        allocations.join(reversals.select("rep"), on="rep", how="anti")
        .join(repayments.select("rep", "paid_on"), on="rep")
        .join(x.select("loan", "seq", "due_date"), on=["loan", "seq"])
        .filter(c("paid_on") <= c("due_date"))
        .group_by("loan", "seq")
        .agg(on_time_principal=c("principal").sum())
    )
    installments = x.join(on_time, on=["loan", "seq"], how="left").with_columns(
        c("on_time_principal").fill_null(0),
        status=pl.when(left <= 0)
        .then(pl.lit("paid"))
        .when(due < today)
        .then(pl.lit("overdue"))
        .when(c("paid_principal") + c("paid_interest") + c("paid_penalty") > 0)
        .then(pl.lit("partial"))
        .otherwise(pl.lit("pending")),
    )
    settled = repayments.filter("settles").group_by("loan").agg(settled_on=c("paid_on").max())
    due_by_close = c("due_date") <= due_through
    loan_state = (
        installments.group_by("loan")
        .agg(
            paid=c("paid_principal").sum(),
            due_installments=due_by_close.sum().cast(pl.Int64),
            due_principal=c("principal").filter(due_by_close).sum(),
            due_principal_repaid=pl.min_horizontal("principal", "paid_principal").filter(due_by_close).sum(),
            due_principal_on_time=pl.min_horizontal("principal", "on_time_principal")
            .filter(due_by_close)
            .sum(),
            due_oldest_owed=c("due_date").filter(due_by_close & (left > 0)).min(),
        )
        .join(loans.select("loan", "principal"), on="loan")
        .join(settled, on="loan", how="left")
        .select(
            "loan",
            "settled_on",
            *DUE_FIGURES,
            outstanding_principal=c("principal") - c("paid"),
            status=pl.when(c("settled_on").is_not_null()).then(pl.lit("settled")).otherwise(pl.lit("active")),
        )
    )
    penalties = x.filter(c("days") > 0).select(
        "loan", "seq", "accrual_date", "base", amount=c("penalty_accrued")
    )
    return History(installments, repayments, allocations, reversals, penalties, loan_state)


def _prepayments(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Settle each prepaying loan on its prepayment date through ``allocate`` itself (a few % of loans).
    Returns (repayments: loan, amount, paid_on) and (lines: loan, seq, paid_principal, paid_interest,
    cancelled_interest, cancelled_subsidy)."""
    by_loan: dict[int, list[dict[str, Any]]] = {}
    for row in rows.sort("loan", "seq").iter_rows(named=True):
        by_loan.setdefault(row["loan"], []).append(row)
    repayments, lines = [], []
    for loan, installments in by_loan.items():
        paid_on, share = installments[0]["prepay_on"], Decimal(installments[0]["subsidy_u"]) / 10_000
        states = [
            InstallmentState(
                r["seq"],
                r["period_start"],
                r["due_date"],
                r["principal"],
                r["interest"],
                r["subsidy_interest"],
                r["borrower_interest"],
                paid_principal=r["paid_principal"],
                paid_interest=r["paid_interest"],
            )
            for r in installments
        ]
        amount = payoff_amount(states, paid_on, share)
        allocation = allocate(states, amount, paid_on, share)
        assert allocation.settles, f"prepayment of loan {loan} does not settle it"
        repayments.append((loan, amount, paid_on))
        lines.extend(
            (loan, line.seq, line.principal, line.interest, line.cancelled_interest, line.cancelled_subsidy)
            for line in allocation.lines
        )
    return (
        pl.DataFrame(
            repayments, schema={"loan": pl.Int64, "amount": pl.Int64, "paid_on": pl.Date}, orient="row"
        ),
        pl.DataFrame(
            lines,
            schema={
                "loan": pl.Int64,
                "seq": pl.Int64,
                "paid_principal": pl.Int64,
                "paid_interest": pl.Int64,
                "cancelled_interest": pl.Int64,
                "cancelled_subsidy": pl.Int64,
            },
            orient="row",
        ),
    )
