"""Repayment posting under concurrent load: through the HTTP API, and the bare database round trips a posting
needs (lock the loan, read its installments, insert the repayment and its allocation, update installments and
loan, commit) run with asyncpg at the same concurrency — the physical limit the API can approach.

The load comes from aiohttp, as light a client as Python has: the client shares the machine's two cores with the API
and PostgreSQL, and httpx's took 1.5–3 ms of CPU per request at 32 connections (aiohttp's about 0.2 ms) — enough
to make the client, not the API, the limit of the figure."""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import aiohttp
import asyncpg
import httpx
import psutil
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from uuid_utils import uuid7

from benchmarks.environment import Api, cpu_seconds_of, liaison, postgres_cpu_seconds
from loans.lending.delinquency import BORROWER_OWED
from loans.repayments.allocation import InstallmentState, allocate

WARMUP = 200

# A loan to post to, and what its borrower would pay: the first installment she still owes (half the
# principal left when that is the last installment and not yet due: a whole one would exceed the payoff).
_TARGETS = f"""
SELECT l.id, l.bank_code, l.county_code,
       CASE WHEN i.due_date <= :today OR i.seq < i.last THEN i.owed ELSE greatest(i.left_principal / 2, 1) END
FROM loan l CROSS JOIN LATERAL (
    SELECT i.seq, i.due_date, {BORROWER_OWED} AS owed, i.principal - i.paid_principal AS left_principal,
           (SELECT max(seq) FROM installment WHERE loan_id = l.id) AS last
    FROM installment i WHERE i.loan_id = l.id AND {BORROWER_OWED} > 0 ORDER BY i.seq LIMIT 1) i
WHERE l.status IN ('active', 'overdue')
ORDER BY md5(l.id::text) LIMIT :n
"""


async def targets(engine: AsyncEngine, today: date, n: int) -> list[tuple[Any, str, str, int]]:
    async with engine.connect() as connection:
        return [tuple(r) for r in await connection.execute(text(_TARGETS), {"today": today, "n": n})]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The load generator's own garbage collector held off while it measures (around each measured window, clock
    and CPU readings inside, so the collection that starts it is not counted). This process holds the whole
    application and the baselines' libraries (~170k objects): its full collections took 0.13–0.19 s, every few
    seconds during the posting benchmark at 100k loans, and every request in flight was timed as if the service
    had taken that long. The objects alive now are frozen out of the collector's sight and collection is off until
    the measurement ends; what the measurement allocates is freed by reference counting, or at the next collection
    after it."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def _summary(latencies: list[float], seconds: float, errors: dict[int, int]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "errors": errors,
    }


async def _liaison_headers(
    api: Api, engine: AsyncEngine, work: list[tuple[Any, str, str, int]]
) -> dict[str, dict[str, str]]:
    """A token for each bank's liaison (one per bank: the setup is not measured, but argon2 is slow)."""
    headers: dict[str, dict[str, str]] = {}
    async with httpx.AsyncClient(base_url=api.url) as setup:
        for bank, county in sorted({w[1]: w[2] for w in work}.items()):
            actor = await liaison(engine, bank, county)
            headers[bank] = await api.token(setup, actor.username)
    return headers


def _api_poster(
    client: aiohttp.ClientSession, headers: dict[str, dict[str, str]], today: date
) -> Callable[[tuple[Any, str, str, int], str], Awaitable[int]]:
    async def post(item: tuple[Any, str, str, int], ref: str) -> int:
        loan_id, bank, _, amount = item
        body = {
            "amount": f"{amount // 100}.{amount % 100:02d}",
            "paid_on": today.isoformat(),
            "bank_txn_ref": ref,
        }
        return await _send(
            client, "POST", f"/api/v1/loans/{loan_id}/repayments", json=body, headers=headers[bank]
        )

    return post


async def run_api(
    api: Api, engine: AsyncEngine, work: list[tuple[Any, str, str, int]], today: date, concurrency: int
) -> dict[str, Any]:
    """Throughput: ``concurrency`` clients post one repayment after another, each to a distinct loan, as the
    loan's bank's liaison. A closed loop: its latencies are concurrency / throughput by Little's law."""
    headers = await _liaison_headers(api, engine, work)
    async with _load_client(api, concurrency) as client:
        post = _api_poster(client, headers, today)

        def sends(items: list[tuple[Any, str, str, int]], prefix: str) -> list[Callable[[], Awaitable[int]]]:
            return [lambda n=n, item=item: post(item, f"{prefix}{n:06d}") for n, item in enumerate(items)]

        run = f"{time.time():.0f}"  # references unique per run: a rerun on the same database posts anew
        await _closed_loop(sends(work[:WARMUP], f"BENCH-WARM-{run}-"), concurrency, ok=201)
        with _collector_paused():
            cpu_before = api.cpu_seconds(), postgres_cpu_seconds()
            started = time.perf_counter()
            latencies, errors = await _closed_loop(
                sends(work[WARMUP:], f"BENCH-API-{run}-"), concurrency, ok=201
            )
            summary = _summary(latencies, time.perf_counter() - started, errors)
            cpu_after = api.cpu_seconds(), postgres_cpu_seconds()
        return summary | _cpu_per_request(cpu_before, cpu_after, len(work) - WARMUP)


async def run_api_paced(
    api: Api, engine: AsyncEngine, work: list[tuple[Any, str, str, int]], today: date, rate: float
) -> dict[str, Any]:
    """Latency at a steady offered load: postings sent at ``rate`` per second whatever the answers, each
    timed from when it was due to be sent, so that a slow answer delays none of the following ones (no
    coordinated omission)."""
    headers = await _liaison_headers(api, engine, work)
    async with _load_client(api, _PACED_CONNECTIONS) as client:
        post = _api_poster(client, headers, today)
        run = f"{time.time():.0f}"
        return await _paced(
            [lambda n=n, item=item: post(item, f"BENCH-PACED-{run}-{n:06d}") for n, item in enumerate(work)],
            rate,
            ok=201,
        )


_PACED_CONNECTIONS = 128  # enough never to hold a due request back at the client at the rates measured


async def _paced(sends: list[Callable[[], Awaitable[Any]]], rate: float, ok: Any) -> dict[str, Any]:
    """Start each send at its due time (``rate`` per second); latency = answer time − due time."""
    latencies: list[float] = []
    errors: dict[Any, int] = {}

    async def timed(send: Callable[[], Awaitable[Any]], due: float) -> None:
        _count(await send(), ok, time.perf_counter() - due, latencies, errors)

    with _collector_paused():
        started = time.perf_counter()
        tasks = []
        for k, send in enumerate(sends):
            due = started + k / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(timed(send, due)))
        await asyncio.gather(*tasks)
    return _summary(latencies, time.perf_counter() - started, errors) | {"offered_rps": rate}


async def _closed_loop(
    sends: list[Callable[[], Awaitable[Any]]], concurrency: int, ok: Any
) -> tuple[list[float], dict[Any, int]]:
    """``concurrency`` clients each take the next send when their last one is answered."""
    queue, latencies, errors = list(reversed(sends)), [], {}

    async def client() -> None:
        while queue:
            send = queue.pop()
            started = time.perf_counter()
            _count(await send(), ok, time.perf_counter() - started, latencies, errors)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, errors


def _count(outcome: Any, ok: Any, latency: float, latencies: list[float], errors: dict[Any, int]) -> None:
    if outcome == ok:
        latencies.append(latency)
    else:
        errors[outcome] = errors.get(outcome, 0) + 1


def _cpu_per_request(
    before: tuple[float, float], after: tuple[float, float], requests: int
) -> dict[str, float]:
    """Where the two cores went: milliseconds of CPU per request in the poster's process(es) — the API's, or
    the benchmark's own for the bare round trips — and in PostgreSQL's."""
    return {
        "poster_cpu_ms": 1000 * (after[0] - before[0]) / requests,
        "postgres_cpu_ms": 1000 * (after[1] - before[1]) / requests,
    }


def _load_client(api: Api, concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        api.url, connector=aiohttp.TCPConnector(limit=concurrency), timeout=aiohttp.ClientTimeout(total=60)
    )


async def _send(client: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> int:
    """One request's status, sent again once if the connection broke (the server closing an idle keep-alive
    connection as the client reuses it): what a bank's system does, and safe — a posting is idempotent on its
    reference. The latency measured includes the retry."""
    try:
        return await _status(client, method, url, **kwargs)
    except aiohttp.ClientConnectionError:
        return await _status(client, method, url, **kwargs)


async def _status(client: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> int:
    async with client.request(method, url, **kwargs) as response:
        await response.read()
        return response.status


async def run_ceiling(
    api: Api, engine: AsyncEngine, bank: str, county: str, requests: int, concurrency: int
) -> dict[str, Any]:
    """What this machine serves of the lightest authenticated request (`GET /auth/me`: token check, one
    primary-key read) from the same client at the same concurrency: the framework-and-client ceiling the
    posting figure sits under, since client, API and PostgreSQL share the cores."""
    async with httpx.AsyncClient(base_url=api.url) as setup:
        headers = await api.token(setup, (await liaison(engine, bank, county)).username)
    async with _load_client(api, concurrency) as client:

        async def me() -> int:
            return await _send(client, "GET", "/api/v1/auth/me", headers=headers)

        await _closed_loop([me] * WARMUP, concurrency, ok=200)
        with _collector_paused():
            started = time.perf_counter()
            latencies, errors = await _closed_loop([me] * requests, concurrency, ok=200)
            return _summary(latencies, time.perf_counter() - started, errors)


_INSTALLMENTS = """SELECT seq, period_start, due_date, principal, interest, subsidy_interest, borrower_interest,
       paid_principal, paid_interest, paid_penalty, penalty_accrued, cancelled_interest, cancelled_subsidy,
       on_time_principal
FROM installment WHERE loan_id = $1 ORDER BY seq"""


async def run_raw(
    database_url: str, work: list[tuple[Any, str, str, int]], today: date, concurrency: int
) -> dict[str, Any]:
    """The same postings as bare SQL round trips with asyncpg (allocation computed in Python as the API does),
    from ``concurrency`` connections one after another."""
    pool = await asyncpg.create_pool(database_url, min_size=concurrency, max_size=concurrency)
    run = f"{time.time():.0f}"
    sends = [
        lambda n=n, item=item: _raw_post(pool, today, f"BENCH-RAW-{run}-{n:06d}", item)
        for n, item in enumerate(work)
    ]
    try:
        with _collector_paused():
            cpu_before = cpu_seconds_of(psutil.Process()), postgres_cpu_seconds()
            started = time.perf_counter()
            latencies, errors = await _closed_loop(sends, concurrency, ok="ok")
            summary = _summary(latencies, time.perf_counter() - started, errors)
            cpu_after = cpu_seconds_of(psutil.Process()), postgres_cpu_seconds()
        return summary | _cpu_per_request(cpu_before, cpu_after, len(work))
    finally:
        await pool.close()


async def run_raw_paced(
    database_url: str, work: list[tuple[Any, str, str, int]], today: date, rate: float, connections: int
) -> dict[str, Any]:
    """The bare round trips at the same steady offered load as `run_api_paced`."""
    pool = await asyncpg.create_pool(database_url, min_size=connections, max_size=connections)
    run = f"{time.time():.0f}"
    try:
        return await _paced(
            [
                lambda n=n, item=item: _raw_post(pool, today, f"BENCH-RAWPACED-{run}-{n:06d}", item)
                for n, item in enumerate(work)
            ],
            rate,
            ok="ok",
        )
    finally:
        await pool.close()


async def _raw_post(pool: asyncpg.Pool, today: date, ref: str, item: tuple[Any, str, str, int]) -> str:
    """One posting as bare round trips; "ok", or the name of the error it met."""
    try:
        await _raw_rounds(pool, today, ref, item)
    except Exception as exc:  # noqa: BLE001 - counted, not fatal
        return type(exc).__name__
    return "ok"


async def _raw_rounds(pool: asyncpg.Pool, today: date, ref: str, item: tuple[Any, str, str, int]) -> None:
    loan_id, bank, _, amount = item
    async with pool.acquire() as connection, connection.transaction():
        share = await connection.fetchval("SELECT subsidy_share FROM loan WHERE id = $1 FOR UPDATE", loan_id)
        rows = [InstallmentState(*r) for r in await connection.fetch(_INSTALLMENTS, loan_id)]
        allocation = allocate(rows, amount, today, Decimal(share))
        repayment_id = uuid7()
        await connection.execute(
            "INSERT INTO repayment (id, loan_id, bank_code, bank_txn_ref, amount, paid_on, settles, source, "
            "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'api', now(), now())",
            repayment_id,
            loan_id,
            bank,
            ref,
            amount,
            today,
            allocation.settles,
        )
        lines = [
            (
                loan_id,
                x.seq,
                x.penalty,
                x.interest,
                x.principal,
                x.cancelled_interest,
                x.cancelled_subsidy,
                today,
            )
            for x in allocation.lines
        ]
        await connection.executemany(
            "INSERT INTO repayment_allocation (loan_id, seq, penalty, interest, principal, cancelled_interest, "
            "cancelled_subsidy, paid_on, repayment_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            [(*line, repayment_id) for line in lines],
        )
        await connection.executemany(
            "UPDATE installment SET paid_penalty = paid_penalty + $3, paid_interest = paid_interest + $4, "
            "paid_principal = paid_principal + $5, cancelled_interest = cancelled_interest + $6, "
            "cancelled_subsidy = cancelled_subsidy + $7, "
            "on_time_principal = on_time_principal + CASE WHEN $8 <= due_date THEN $5 ELSE 0 END "
            "WHERE loan_id = $1 AND seq = $2",
            lines,
        )
        await connection.execute(
            "UPDATE loan SET outstanding_principal = outstanding_principal - $2, updated_at = now(), "
            "status = CASE WHEN $3 THEN 'settled' ELSE status END WHERE id = $1",
            loan_id,
            sum(x.principal for x in allocation.lines),
            allocation.settles,
        )
