"""Personal data (SPEC section 1): a bank liaison sees the applicants of her bank's applications and loans only,
with their full ID and phone; every answer that shows a full ID number is written to the access log, which
refuses to be changed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.http import API, expect
from tests.support.journeys import (
    application_body,
    approve,
    certify,
    create_application,
    disbursed_loan,
    get_application,
    new_fund,
    recommend,
    register,
    submit,
)
from tests.support.statements import counting
from tests.support.world import OTHER_BANK


async def visible(client, world, user: str) -> set[str]:
    page = expect(await client.get(f"{API}/applicants?limit=500", headers=world[user]), 200)
    assert page["total"] == len(page["items"])
    return {a["id"] for a in page["items"]}


async def test_a_liaison_sees_the_applicants_of_her_banks_applications_and_loans_only(client, world, fund_id):
    ours = await register(client, world, name="甲")
    await create_application(client, world, fund_id, applicant=ours)
    lead, partner = await register(client, world, name="乙"), await register(client, world, name="丙")
    await create_application(
        client,
        world,
        fund_id,
        applicant=lead,
        borrower_kind="partnership",
        member_applicant_ids=[partner["id"]],
    )
    loan = await disbursed_loan(client, world, fund_id=fund_id)
    borrower_id = (await get_application(client, world, loan["application_id"]))["applicant_id"]
    theirs = await register(client, world, name="丁")
    other_fund = await new_fund(client, world, bank_code=OTHER_BANK)
    await create_application(client, world, other_fund, applicant=theirs)
    nobody = await register(client, world, name="戊")

    assert await visible(client, world, "bank") == {ours["id"], lead["id"], partner["id"], borrower_id}
    assert await visible(client, world, "bank_other") == {theirs["id"]}
    assert nobody["id"] not in await visible(client, world, "bank") | await visible(
        client, world, "bank_other"
    )
    for applicant_id in (ours["id"], partner["id"], borrower_id):
        shown = expect(await client.get(f"{API}/applicants/{applicant_id}", headers=world["bank"]), 200)
        assert shown["national_id"] is not None and shown["phone"] is not None
    for applicant in (theirs, nobody):
        response = await client.get(f"{API}/applicants/{applicant['id']}", headers=world["bank"])
        assert response.status_code == 404, response.text
        assert applicant["national_id"] not in response.text
        by_id = expect(
            await client.get(
                f"{API}/applicants", params={"q": applicant["national_id"]}, headers=world["bank"]
            ),
            200,
        )
        assert by_id["total"] == 0
        trainings = await client.get(f"{API}/applicants/{applicant['id']}/trainings", headers=world["bank"])
        assert trainings.status_code == 404
    assert (
        await client.get(f"{API}/applicants/{ours['id']}", headers=world["bank_other"])
    ).status_code == 404


async def test_an_application_waiting_for_any_bank_shows_its_applicant_to_each_until_one_decides(
    client, world, credit_product
):
    """A 免担保 application names no bank until one decides: every partner bank of the county may decide it."""
    applicant = await register(client, world)
    body = application_body(applicant["id"], None, product_code=credit_product)
    application = expect(await client.post(f"{API}/applications", json=body, headers=world["township"]), 201)
    for bank in ("bank", "bank_other"):
        assert applicant["id"] not in await visible(client, world, bank)  # a draft is with no bank yet
    for step in (certify, submit, recommend):
        expect(await step(client, world, application["id"]), 200)
    for bank in ("bank", "bank_other"):
        shown = expect(await client.get(f"{API}/applicants/{applicant['id']}", headers=world[bank]), 200)
        assert shown["national_id"] == applicant["national_id"], bank
    expect(await approve(client, world, application["id"], who="bank"), 200)
    assert (await client.get(f"{API}/applicants/{applicant['id']}", headers=world["bank"])).status_code == 200
    gone = await client.get(f"{API}/applicants/{applicant['id']}", headers=world["bank_other"])
    assert gone.status_code == 404


async def access_log(engine) -> list[tuple]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT l.username, l.role, l.applicant_id::text, l.endpoint, l.user_id = u.id, l.at IS NOT NULL "
                "FROM id_access_log l JOIN app_user u ON u.username = l.username ORDER BY l.id"
            )
        )
        return [tuple(row) for row in rows]


async def test_every_full_id_shown_is_logged_with_who_whose_when_and_where(client, world, engine, fund_id):
    first = await register(client, world)  # the answer to the registration shows the number too
    registered = [first["id"]] + [(await register(client, world))["id"] for _ in range(2)]
    logged = await access_log(engine)
    assert logged == [
        ("township", "township_staff", i, "POST /api/v1/applicants", True, True) for i in registered
    ]

    with counting() as statements:
        page = expect(await client.get(f"{API}/applicants", headers=world["township"]), 200)
    assert {a["national_id"] is not None for a in page["items"]} == {True}
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO ID_ACCESS_LOG")]
    assert len(inserts) == 1, inserts  # one statement for the page, not one per applicant
    listed = (await access_log(engine))[3:]
    assert sorted(row[2] for row in listed) == sorted(registered)
    assert {row[3] for row in listed} == {"GET /api/v1/applicants"}

    expect(await client.get(f"{API}/applicants/{first['id']}", headers=world["township"]), 200)
    assert (await access_log(engine))[-1][:4] == (
        "township",
        "township_staff",
        first["id"],
        "GET /api/v1/applicants/{applicant_id}",
    )
    # masked answers are not reads of the number: nothing logged
    before = len(await access_log(engine))
    for user in ("county", "auditor", "admin", "village"):
        expect(await client.get(f"{API}/applicants", headers=world[user]), 200)
        expect(await client.get(f"{API}/applicants/{first['id']}", headers=world[user]), 200)
    assert len(await access_log(engine)) == before
    # a liaison's read of her bank's applicant is logged; another bank reads nothing
    await create_application(client, world, fund_id, applicant=first)
    expect(await client.get(f"{API}/applicants/{first['id']}", headers=world["bank"]), 200)
    assert (await access_log(engine))[-1][:3] == ("bank", "bank_liaison", first["id"])
    expect(await client.get(f"{API}/applicants", headers=world["bank_other"]), 200)
    assert len(await access_log(engine)) == before + 1


@pytest.mark.parametrize("change", ["UPDATE id_access_log SET endpoint = 'x'", "DELETE FROM id_access_log"])
async def test_the_access_log_refuses_to_be_changed(client, world, engine, change):
    applicant = await register(client, world)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(change))
    assert [row[2] for row in await access_log(engine)] == [applicant["id"]]
