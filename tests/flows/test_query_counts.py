"""No N+1: a list endpoint issues the same number of SQL statements for one row as for many."""

from __future__ import annotations

import pytest

from tests.support.http import expect
from tests.support.journeys import disbursed_loan
from tests.support.statements import counting


async def statements_for(client, url: str, headers) -> int:
    with counting() as statements:
        expect(await client.get(url, headers=headers), 200)
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
