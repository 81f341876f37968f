"""`uv run python -m benchmarks [--loans 10000,100000] [--only cob,reports,posting,import,book,value-dating,web]`:
see __init__.py."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")

from benchmarks import books, cob, imports, plans, posting, reports, value_dating, web  # noqa: E402
from benchmarks.environment import Api, engine_for, servers  # noqa: E402
from benchmarks.results import OUT, Row, print_plans, print_table, say, write_results  # noqa: E402
from loans import bulk  # noqa: E402
from loans.core.clock import today as business_today  # noqa: E402
from loans.settings import Settings  # noqa: E402


def cpu_check() -> float:
    """Seconds for a fixed pure-Python loop. This machine is a shared VM whose speed moves during the day (the
    same loop took 1.0 s and 3.1 s within an hour): each run records it beside its figures, at each size."""
    started, total = time.perf_counter(), 0
    for i in range(20_000_000):
        total += i * i
    return time.perf_counter() - started


CPU_CHECKS: list[float] = []
PLANS: dict[int, list[dict[str, Any]]] = {}  # per N, the hot queries' plan checks (`plans.check`)


def counties_for(n: int) -> int:
    """About 50,000 loans a county, the size of county the county risk report's target names (a large county
    over a decade of lending): the largest county of the 100k and 1M runs is at least that."""
    return max(2, min(60, n // 50_000))


async def benchmark_size(servers_: Any, n: int, args: argparse.Namespace, today: Any, log: Path) -> list[Row]:
    rows: list[Row] = []
    name = f"bench_{n}"
    url = await asyncio.to_thread(servers_.database, name)
    engine = engine_for(url)
    try:
        CPU_CHECKS.append(cpu_check())
        say(
            f"N={n:,}: CPU check {CPU_CHECKS[-1]:.2f} s (a fixed Python loop; ~1.0 s when this machine is quiet)"
        )
        say(f"N={n:,}: loading with loans.bulk ({counties_for(n)} counties)")
        summary = await bulk.load(
            engine, n, counties_for(n), args.seed, today, progress=lambda m: say(f"  {m}")
        )
        detail = {"rows": summary.rows, "seconds": summary.seconds, "live_loans": summary.live_loans}
        rows.append(
            Row("load (bulk COPY)", n, "seconds", summary.seconds["total"], None, "", "minutes at 1M", detail)
        )
        for benchmark, run in (
            ("cob", _cob),
            ("reports", _reports),
            ("posting", _posting),
            ("import", _import),
            ("web", _web),
            ("value-dating", _value_dating),  # it closes the next 31 business dates
            # last: its 100,000 loans would otherwise be part of every later benchmark's portfolio
            ("book", _book),
        ):
            if benchmark in args.only:
                try:
                    rows += await run(servers_, url, engine, today, args, log, n)
                except Exception as exc:  # noqa: BLE001 - one failed benchmark must not lose the others
                    say(f"N={n:,}: {benchmark} failed: {exc!r}\n{traceback.format_exc()}")
                    rows.append(Row(benchmark, n, "error", float("nan"), detail={"error": repr(exc)}))
        checks = await plans.check(engine, today)
        PLANS[n] = [asdict(check) | {"ok": check.ok} for check in checks]
        print_plans(n, checks)
    finally:
        await engine.dispose()
        if not args.keep:
            servers_.drop(name)
    return rows


async def _cob(
    _servers: Any, _url: str, engine: Any, today: Any, args: argparse.Namespace, _log: Path, n: int
) -> list[Row]:
    say(f"N={n:,}: close of business")
    r = await cob.run(engine, today, args.cob_baseline_cap)
    how = (
        f"ORM loop on {r['baseline_loans']:,} loans ({r['baseline_seconds_measured']:.1f} s), "
        f"extrapolated linearly to {r['live_loans']:,} live loans"
    )
    return [
        Row("close of business", n, "seconds", r["seconds"], r["baseline_seconds"], how, "≤ 60 s at 1M", r)
    ]


async def _reports(
    servers_: Any, url: str, engine: Any, today: Any, args: argparse.Namespace, log: Path, n: int
) -> list[Row]:
    say(f"N={n:,}: repayment-rate report over all loans, county risk report for the largest county")
    r = await reports.run(engine, today, args.report_baseline_cap)
    say(f"N={n:,}: the same reports by `loans report` in a process of their own, its memory sampled")
    memory = await reports.memory(url, servers_.redis_url, log, r["county"])
    how = f"row-wise Python over ORM objects, {r['baseline_loans']:,} loans ({r['baseline_seconds_measured']:.1f} s), "
    rate_how, risk_how = (
        how + f"extrapolated to {r['loans']:,}",
        how + f"extrapolated to {r['county_loans']:,}",
    )
    rate_baseline, risk_baseline = r["baseline_repayment_rate_seconds"], r["baseline_county_risk_seconds"]
    risk = f"county risk report ({r['county_loans']:,} loans)"
    return [
        Row(
            "repayment-rate report",
            n,
            "seconds",
            r["repayment_rate_seconds"],
            rate_baseline,
            rate_how,
            "≤ 5 s at 1M",
            r,
        ),
        Row("repayment-rate report, again", n, "seconds", r["repayment_rate_again_seconds"], rate_baseline),
        Row(
            risk,
            n,
            "seconds",
            r["county_risk_seconds"],
            risk_baseline,
            risk_how,
            "≤ 1 s for a 50k-loan county",
        ),
        Row(f"{risk}, again", n, "seconds", r["county_risk_again_seconds"], risk_baseline),
        Row(
            "weekly clustering by county",
            n,
            "seconds",
            sum(r["clustering_seconds"].values()),
            None,
            "",
            "",
            r["clustering_seconds"],
        ),
        Row(
            f"{risk}, clustered",
            n,
            "seconds",
            r["county_risk_clustered_seconds"],
            risk_baseline,
            risk_how,
            "≤ 1 s for a 50k-loan county",
        ),
        Row(
            f"{risk}, clustered, again", n, "seconds", r["county_risk_clustered_again_seconds"], risk_baseline
        ),
        *(
            Row(
                f"report process peak RSS, {name}",
                n,
                "MiB",
                m["peak_rss"] / 2**20,
                target="< 1024 MiB",
                detail=m,
            )
            for name, m in memory.items()
        ),
    ]


async def _import(
    _servers: Any, _url: str, engine: Any, today: Any, args: argparse.Namespace, _log: Path, n: int
) -> list[Row]:
    say(f"N={n:,}: import of a {args.import_rows:,}-row bank file")
    r = await imports.run(engine, today, args.import_rows, args.import_baseline_cap)
    how = (
        f"post_repayment row by row, {r['baseline_rows']:,} rows ({r['baseline_seconds_measured']:.1f} s), "
        f"extrapolated to {r['rows']:,}"
    )
    return [
        Row("bank file import", n, "seconds", r["seconds"], r["baseline_seconds"], how, "≤ 30 s for 100k", r)
    ]


async def _book(
    _servers: Any, _url: str, engine: Any, today: Any, args: argparse.Namespace, _log: Path, n: int
) -> list[Row]:
    say(f"N={n:,}: import of a {args.book_rows:,}-row loan book")
    r = await books.run(engine, today, args.book_rows, args.book_baseline_cap)
    how = (
        f"the API's services loan by loan (7 transactions each), {r['baseline_rows']:,} loans "
        f"({r['baseline_seconds_measured']:.1f} s), extrapolated to {r['rows']:,}"
    )
    return [
        Row("loan book import", n, "seconds", r["seconds"], r["baseline_seconds"], how, "≤ 60 s for 100k", r)
    ]


async def _value_dating(
    _servers: Any, _url: str, engine: Any, today: Any, args: argparse.Namespace, _log: Path, n: int
) -> list[Row]:
    rows = args.value_dating_rows
    say(f"N={n:,}: {rows:,} bank-file rows dated {value_dating.DAYS_BACK} closed dates back, then yesterday")
    r = await value_dating.run(engine, today, rows)
    back, yesterday = r["days_back_seconds"], r["yesterday_seconds"]
    how = f"the same {rows:,} rows dated yesterday, also replayed"
    return [
        Row("value-dated file, yesterday", n, "seconds", yesterday, detail=r),
        Row(f"value-dated file, {value_dating.DAYS_BACK} days back", n, "seconds", back, yesterday, how),
        Row(
            f"value-dated file, {value_dating.DAYS_BACK} days back",
            n,
            "× yesterday",
            back / yesterday,
            target="≤ 2×",
        ),
    ]


async def _posting(
    servers_: Any, url: str, engine: Any, today: Any, args: argparse.Namespace, log: Path, n: int
) -> list[Row]:
    say(
        f"N={n:,}: repayment posting, {args.requests:,} requests from {args.concurrency} clients, "
        f"then {args.requests:,} sent at {args.rate:g}/s"
    )
    work = await posting.targets(engine, today, posting.WARMUP + args.requests)
    async with Api(url, servers_.redis_url, log) as api:
        r = await posting.run_api(api, engine, work, today, args.concurrency)
        ceiling = await posting.run_ceiling(
            api, engine, work[0][1], work[0][2], args.requests, args.concurrency
        )
        # amounts recomputed: the loans posted to above owe less now
        paced = await posting.run_api_paced(
            api, engine, await posting.targets(engine, today, args.requests), today, args.rate
        )
    raw = await posting.run_raw(
        url, await posting.targets(engine, today, args.requests), today, args.concurrency
    )
    raw_paced = await posting.run_raw_paced(
        url, await posting.targets(engine, today, args.requests), today, args.rate, args.concurrency
    )
    how = f"bare asyncpg round trips, {args.concurrency} connections (the physical limit)"
    at_rate = f"posting at {args.rate:g}/s sent"
    return [
        Row(
            "posting via HTTP API",
            n,
            "requests/s",
            r["rps"],
            raw["rps"],
            how,
            "≥ 300 req/s",
            {"api": r, "raw": raw, "ceiling": ceiling, "api_paced": paced, "raw_paced": raw_paced},
        ),
        Row(
            "GET /auth/me (ceiling)",
            n,
            "requests/s",
            ceiling["rps"],
            detail={"p50_ms": ceiling["p50_ms"], "p99_ms": ceiling["p99_ms"]},
        ),
        Row(at_rate, n, "p50 ms", paced["p50_ms"], raw_paced["p50_ms"], how),
        Row(at_rate, n, "p99 ms", paced["p99_ms"], raw_paced["p99_ms"], how, "≤ 100 ms"),
        Row("API process peak RSS", n, "MiB", api.peak_rss / 2**20, target="< 1024 MiB"),
    ]


async def _web(
    servers_: Any, url: str, engine: Any, _today: Any, args: argparse.Namespace, log: Path, n: int
) -> list[Row]:
    username, county, county_loans = await web.county_officer(engine)
    say(f"N={n:,}: the web pages as {county}'s county officer ({county_loans:,} loans)")
    async with Api(url, servers_.redis_url, log) as api:
        load = await web.first_load(api, username)
        times = await web.server_times(api, username, args.web_requests)
    cold, warm = load["cold"], load["warm"]
    link = "the same page again, assets cached"
    scope = f"{county_loans:,} loans in scope"
    return [
        Row("web list, cold, 400 kbit/s", n, "KB", cold["bytes"] / 1000, warm["bytes"] / 1000, link, "≤ 100 KB", load),
        Row("web list, cold, 400 kbit/s", n, "seconds", cold["seconds"], warm["seconds"], link, "≤ 2 s"),
        Row(
            "web 贷款台账 /loans", n, "p95 ms", times["loans"]["p95_ms"], times["api_loans"]["p95_ms"],
            f"GET /api/v1/loans?limit=20, {scope}", "≤ 150 ms", times,
        ),
        Row(
            "web 我的待办 /todo", n, "p95 ms", times["todo"]["p95_ms"], times["api_me"]["p95_ms"],
            f"GET /api/v1/auth/me (the lightest authenticated request), {scope}", "≤ 150 ms",
        ),
    ]  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    today = business_today(Settings())
    root = Path(args.data_dir or tempfile.mkdtemp(prefix="jinguo-bench-"))
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"api-{datetime.now():%Y%m%d-%H%M%S}.log"
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        with servers(root) as servers_:
            for n in args.loans:
                rows += await benchmark_size(servers_, n, args, today, log)
                CPU_CHECKS.append(cpu_check())
                print_table(rows)
                print(
                    f"  CPU checks during the run (s, ~1.0 when quiet): {', '.join(f'{c:.2f}' for c in CPU_CHECKS)}"
                )
                write_results(rows, args, today, time.perf_counter() - started, CPU_CHECKS, PLANS)
    finally:
        if not args.data_dir:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--loans",
        default="10000,100000",
        type=lambda s: [int(x) for x in s.split(",")],
        help="portfolio sizes, comma-separated (default 10000,100000)",
    )
    parser.add_argument(
        "--only",
        default="cob,reports,posting,import,book,value-dating,web",
        type=lambda s: set(s.split(",")),
        help="benchmarks to run: cob,reports,posting,import,book,value-dating,web (default all)",
    )
    parser.add_argument("--web-requests", type=int, default=50, help="requests timed per web page")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--requests", type=int, default=3000, help="postings measured (after 200 to warm up)")
    parser.add_argument("--concurrency", type=int, default=32, help="clients of the throughput run")
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="postings sent per second in the latency run (the target's rate)",
    )
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--book-rows", type=int, default=100_000, help="rows of the loan book imported")
    parser.add_argument(
        "--book-baseline-cap", type=int, default=200, help="loans the one-by-one baseline brings in"
    )
    parser.add_argument(
        "--value-dating-rows", type=int, default=10_000, help="rows of each value-dated bank file"
    )
    parser.add_argument("--cob-baseline-cap", type=int, default=20_000, help="loans the ORM baseline closes")
    parser.add_argument(
        "--import-baseline-cap", type=int, default=2000, help="rows the row-by-row baseline posts"
    )
    parser.add_argument(
        "--report-baseline-cap", type=int, default=2000, help="loans the row-wise baseline reads"
    )
    parser.add_argument("--data-dir", help="keep the servers' data here (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep each size's database after its benchmarks")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
