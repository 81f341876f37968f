"""Jobs, their report files and bank files are read inside the region and bank they cover (SPEC section 1):
404 outside it, and left out of the lists. Two counties: a county officer of one never sees the other's."""

from __future__ import annotations

import importlib
from datetime import timedelta

from sqlalchemy import text

from tests.support.http import expect
from tests.support.journeys import SMALL_LOAN, business_today, disbursed_loan
from tests.support.world import COUNTY, OTHER_COUNTY

AS_OF = "2026-05-31"
MIGRATION = importlib.import_module("migrations.versions.20261203_3a7e5c9d1b42_job_region_and_bank")


async def background_report(client, world, user: str, query: str) -> dict:
    return expect(await client.get(f"/api/v1/reports/{query}&async=true", headers=world[user]), 202)


async def readable(client, world, user: str, job_id: str) -> tuple[int, int, bool]:
    """(GET /jobs/{id}, GET /jobs/{id}/download, listed in GET /jobs) as ``user`` sees them."""
    one = await client.get(f"/api/v1/jobs/{job_id}", headers=world[user])
    download = await client.get(f"/api/v1/jobs/{job_id}/download", headers=world[user])
    listed = await client.get("/api/v1/jobs?limit=200", headers=world[user])
    in_list = listed.status_code == 200 and job_id in {job["id"] for job in listed.json()}
    return one.status_code, download.status_code, in_list


async def test_a_county_report_job_and_its_file_stay_in_the_county(client, world, run_jobs):
    await disbursed_loan(client, world, contract_no="SCOPE-1", **SMALL_LOAN)
    ours = await background_report(client, world, "county", f"county-risk?county_code={COUNTY}&as_of={AS_OF}")
    theirs = await background_report(
        client, world, "other_county_officer", f"county-risk?county_code={OTHER_COUNTY}&as_of={AS_OF}"
    )
    await run_jobs()

    for user in ("county", "auditor", "admin"):
        assert await readable(client, world, user, ours["id"]) == (200, 200, True), user
    # the other county's officer, a township of the county, a liaison: not theirs to read
    assert await readable(client, world, "other_county_officer", ours["id"]) == (404, 404, False)
    for user in ("township", "village", "bank"):
        assert (await readable(client, world, user, ours["id"]))[:2] == (404, 404), user
    # and the other way round
    assert await readable(client, world, "other_county_officer", theirs["id"]) == (200, 200, True)
    for user in ("county", "auditor"):
        assert await readable(client, world, user, theirs["id"]) == (404, 404, False), user
    assert await readable(client, world, "admin", theirs["id"]) == (200, 200, True)


async def test_a_township_report_job_is_the_townships_and_the_countys(client, world, run_jobs):
    await disbursed_loan(client, world, contract_no="SCOPE-2", **SMALL_LOAN)
    job = await background_report(client, world, "township", f"repayment-rate?as_of={AS_OF}")
    await run_jobs()
    one = expect(await client.get(f"/api/v1/jobs/{job['id']}", headers=world["township"]), 200)
    assert one["status"] == "done", one
    assert (
        await client.get(f"/api/v1/jobs/{job['id']}/download", headers=world["township"])
    ).status_code == 200
    assert await readable(client, world, "county", job["id"]) == (200, 200, True)
    for user in ("township_other", "other_county", "other_county_officer", "bank"):
        assert (await readable(client, world, user, job["id"]))[:2] == (404, 404), user


async def test_a_report_job_kept_from_before_the_migration_is_scoped_by_its_params(
    client, world, engine, run_jobs
):
    """Jobs written before their region was stored get it from the scope kept in their params."""
    job = await background_report(client, world, "county", f"repayment-rate?as_of={AS_OF}")
    await run_jobs()
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE job SET region_code = NULL, bank_code = NULL"))
        await conn.execute(text(MIGRATION.BACKFILL))
        stored = (await conn.execute(text("SELECT region_code, bank_code FROM job"))).one()
    assert tuple(stored) == (COUNTY, None)
    assert (await readable(client, world, "other_county_officer", job["id"]))[:2] == (404, 404)


async def test_close_of_business_is_read_by_its_starter_and_deployment_wide_readers(client, world, run_jobs):
    day = (business_today() - timedelta(days=1)).isoformat()
    job = expect(
        await client.post(
            "/api/v1/jobs", json={"kind": "close_of_business", "business_date": day}, headers=world["county"]
        ),
        202,
    )
    for user in ("county", "admin"):
        assert (await client.get(f"/api/v1/jobs/{job['id']}", headers=world[user])).status_code == 200, user
    for user in ("other_county_officer", "auditor", "township", "bank"):
        response = await client.get(f"/api/v1/jobs/{job['id']}", headers=world[user])
        assert response.status_code == 404, user
    listed = expect(await client.get("/api/v1/jobs", headers=world["other_county_officer"]), 200)
    assert listed == []
    await run_jobs()  # not left queued for a later test's worker


async def test_a_bank_file_is_read_by_its_bank_and_its_county_only(client, world, run_jobs):
    await disbursed_loan(client, world, contract_no="SCOPE-IMP", **SMALL_LOAN)
    csv = "合同编号,交易流水号,还款日期,还款金额\nSCOPE-IMP,S-001,2026-02-15,1000.00\n".encode()
    batch = expect(
        await client.post(
            "/api/v1/imports/repayments", files={"data": ("r.csv", csv, "text/csv")}, headers=world["bank"]
        ),
        202,
    )
    await run_jobs()
    for user in ("bank", "county", "auditor", "admin"):
        body = expect(await client.get(f"/api/v1/imports/{batch['id']}", headers=world[user]), 200)
        assert body["posted"] == 1, user
    for user in (
        "township",
        "village",
        "township_other",
        "bank_other",
        "other_county",
        "other_county_officer",
    ):
        response = await client.get(f"/api/v1/imports/{batch['id']}", headers=world[user])
        assert response.status_code == 404, (user, response.text)
        assert "SCOPE-IMP" not in response.text
