"""No N+1: a list endpoint issues the same number of SQL statements for one row as for many."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.flows.helpers import disbursed_loan, expect


@contextmanager
def counting():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if (
            "app_user.token_version" not in statement
        ):  # the caller's token standing, read once a second at most
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


async def statements_for(client, url: str, headers) -> int:
    with counting() as statements:
        await expect(await client.get(url, headers=headers), 200)
    return len(statements)


@pytest.mark.parametrize(
    ("url", "user"),
    [
        ("/api/v1/applicants?limit={n}", "township"),
        ("/api/v1/applicants?limit={n}", "bank"),
        ("/api/v1/applications?limit={n}", "township"),
        ("/api/v1/loans?limit={n}", "bank"),
        ("/api/v1/guarantee-funds?limit={n}", "county"),
    ],
)
async def test_list_endpoints_do_not_query_per_row(client, world, engine, url, user):
    for n in range(4):
        await disbursed_loan(client, world, contract_no=f"NPLUS1-{n}")
    one = await statements_for(client, url.format(n=1), world[user])
    many = await statements_for(client, url.format(n=50), world[user])
    assert one == many, (one, many)
