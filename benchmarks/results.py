"""What a benchmark run reports: its rows, the table printed after each size, each size's query plans, and the day's
results file (benchmarks/out/results-DATE.json)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from benchmarks import plans as hot_plans
from benchmarks.environment import POSTGRES_SETTINGS

OUT = Path(__file__).resolve().parent / "out"
MILLION = 1_000_000


@dataclass
class Row:
    benchmark: str
    n: int
    metric: str
    figure: float
    baseline: float | None = None
    baseline_how: str = ""
    target: str = ""
    detail: dict[str, Any] | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.figure:
            return None
        return self.baseline / self.figure


def say(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def print_plans(n: int, checks: list[hot_plans.PlanCheck]) -> None:
    print(
        f"\nQuery plans at N={n:,} (EXPLAIN ANALYZE): the indexes each hot query needs, and those its plan uses"
    )
    for check in checks:
        ran = f"{check.run_ms:8.2f} ms" if check.run_ms is not None else "  planned only"
        print(
            f"  {'✓' if check.ok else '✗'} {check.name:<56} {ran}  needs {', '.join(check.needs)}; "
            f"uses {', '.join(check.uses) or 'no index'}"
            + (f"; reads whole {', '.join(check.scans)}" if check.scans else "")
        )


def growth(rows: list[Row]) -> dict[tuple[str, str, int], str]:
    """How each figure grows with N: figure(N) / figure(previous N) against N / previous N."""
    result, last = {}, {}
    for row in sorted(rows, key=lambda r: r.n):
        key = (row.benchmark, row.metric)
        if key in last and last[key].figure:
            previous = last[key]
            result[(*key, row.n)] = f"×{row.figure / previous.figure:.2f} for ×{row.n / previous.n:g} N"
        last[key] = row
    return result


def print_table(rows: list[Row]) -> None:
    grown = growth(rows)
    header = (
        f"{'benchmark':<24} {'N':>9} {'metric':<11} {'figure':>10} {'baseline':>10} {'ratio':>8}  "
        f"{'growth':<22} target"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        baseline = f"{row.baseline:10.1f}" if row.baseline is not None else f"{'-':>10}"
        ratio = f"{row.ratio:7.1f}×" if row.ratio is not None else f"{'':>8}"
        print(
            f"{row.benchmark:<24} {row.n:>9,} {row.metric:<11} {row.figure:10.1f} {baseline} {ratio}  "
            f"{grown.get((row.benchmark, row.metric, row.n), ''):<22} {row.target}"
        )
    print(
        "\nBaselines (ratio = baseline / figure; for posting, the API's share of the physical limit is 1/ratio):"
    )
    for how in dict.fromkeys(f"  {r.benchmark}: {r.baseline_how}" for r in rows if r.baseline_how):
        print(how)
    largest = max(rows, key=lambda r: r.n).n
    if largest < MILLION:
        for row in rows:
            if row.n == largest and row.benchmark in (
                "close of business",
                "load (bulk COPY)",
                "repayment-rate report",
            ):
                print(
                    f"  {row.benchmark} at 1M loans, linear projection from N={largest:,}: "
                    f"{row.figure * MILLION / largest:.0f} s"
                )


def write_results(
    rows: list[Row],
    args: argparse.Namespace,
    today: Any,
    seconds: float,
    cpu_checks: list[float],
    plans: dict[int, list[dict[str, Any]]],
) -> None:
    """One file a day; a later run that day replaces the figures it measured again (and the failures of the
    benchmarks it ran again) and keeps the others."""
    path = OUT / f"results-{datetime.now():%Y-%m-%d}.json"
    measured = {(r.benchmark, r.n, r.metric) for r in rows}
    rerun = {(benchmark, n) for benchmark in args.only for n in args.loans}
    if path.exists():
        kept = [
            Row(**{k: v for k, v in r.items() if k in Row.__dataclass_fields__})
            for r in json.loads(path.read_text())["results"]
            if r["metric"] != "error" or (r["benchmark"], r["n"]) not in rerun
        ]
        rows = sorted(
            [r for r in kept if (r.benchmark, r.n, r.metric) not in measured] + rows, key=lambda r: r.n
        )
    grown = growth(rows)
    path.write_text(
        json.dumps(
            {
                "run_at": datetime.now().isoformat(timespec="seconds"),
                "business_date": today.isoformat(),
                "seconds": seconds,
                "args": vars(args),
                "machine": {
                    "cpus": os.cpu_count(),
                    "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                    "cpu_check_seconds": cpu_checks,
                },
                "postgres_settings": POSTGRES_SETTINGS | {"fsync": "on", "synchronous_commit": "on"},
                "results": [
                    asdict(r) | {"ratio": r.ratio, "growth": grown.get((r.benchmark, r.metric, r.n))}
                    for r in rows
                ],
                "plans": plans,
                "missing": [],
            },
            indent=2,
            default=str,
            ensure_ascii=False,
        )
    )
    say(f"results written to {path}")
