"""Set-wise building blocks of the generator: seeded random columns and timestamps (the calendar, rounding and
schedule rules it shares with the loan-book import are in loans/lending/schedule_frame.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

# --- random numbers: pure functions of (row key, salt, seed), so the data set depends on the seed only -----


@dataclass(frozen=True)
class Rng:
    seed: int

    def u(self, key: pl.Expr, salt: int) -> pl.Expr:
        """Uniform in [0, 1)."""
        return (key.hash(seed=self.seed * 10_007 + salt) // 2048).cast(pl.Float64) / float(1 << 53)

    def int(self, key: pl.Expr, salt: int, low: int, high: int) -> pl.Expr:
        """Uniform integer in [low, high]."""
        return (self.u(key, salt) * (high - low + 1)).floor().cast(pl.Int64) + low

    def pick(self, key: pl.Expr, salt: int, weights: dict[Any, float]) -> pl.Expr:
        u, total, chain = self.u(key, salt), 0.0, None
        items = list(weights.items())
        for value, weight in items[:-1]:
            total += weight / sum(weights.values())
            chain = (pl.when(u < total) if chain is None else chain.when(u < total)).then(pl.lit(value))
        return pl.lit(items[-1][0]) if chain is None else chain.otherwise(pl.lit(items[-1][0]))


def at_time(day: pl.Expr, minutes: pl.Expr) -> pl.Expr:
    """A UTC timestamp ``minutes`` after midnight of ``day`` in Asia/Shanghai."""
    local = day.cast(pl.Datetime("us")) + pl.duration(minutes=minutes)
    return local.dt.replace_time_zone("Asia/Shanghai").dt.convert_time_zone("UTC")
