"""Reports through the API on a portfolio whose figures are worked out by hand."""

from __future__ import annotations

from tests.support.http import expect
from tests.support.journeys import portfolio
from tests.support.world import COUNTY, OTHER_COUNTY, TOWNSHIP


async def test_repayment_rate_par_and_beneficiaries(client, world, engine):
    await portfolio(client, world)
    rate = expect(
        await client.get(
            "/api/v1/reports/repayment-rate?as_of=2026-05-31&group_by=township", headers=world["county"]
        ),
        200,
    )
    # due by 31 May: 4 × 1000.00 on each loan = 8000.00; A repaid 3000.00, 2000.00 of it on time
    assert rate["total"]["principal_due"] == "8000.00" and rate["total"]["principal_repaid"] == "3000.00"
    assert rate["total"]["repayment_rate"] == "0.3750" and rate["total"]["on_time_rate"] == "0.2500"
    assert [row["township"] for row in rate["rows"]] == [TOWNSHIP]
    assert {item["contract_no"] for item in rate["tables"]["below_full"]} == {"RPT-A", "RPT-B"}
    assert all("********" in item["national_id_masked"] for item in rate["tables"]["below_full"])

    earlier = expect(
        await client.get("/api/v1/reports/repayment-rate?as_of=2026-03-31", headers=world["county"]), 200
    )
    assert (earlier["total"]["principal_due"], earlier["total"]["principal_repaid"]) == ("4000.00", "2000.00")
    # as of today (nothing paid or reversed later: summed by the database), by the applicants' category
    by_category = expect(
        await client.get("/api/v1/reports/repayment-rate?group_by=category", headers=world["county"]), 200
    )
    assert [(row["category"], row["loan_count"]) for row in by_category["rows"]] == [("rural", 2)]
    assert (by_category["total"]["principal_repaid"], by_category["total"]["on_time_repaid"]) == (
        "3000.00",
        "2000.00",
    )

    par = expect(
        await client.get("/api/v1/reports/portfolio-at-risk?as_of=2026-05-31", headers=world["county"]), 200
    )
    # A owes from 15 May (16 days), B from 15 Feb (105 days); outstanding 9000.00 + 12000.00
    assert par["total"]["outstanding_principal"] == "21000.00"
    assert (par["total"]["par1"], par["total"]["par30"], par["total"]["par90"]) == (
        "1.0000",
        "0.5714",
        "0.5714",
    )

    people = expect(
        await client.get(
            "/api/v1/reports/beneficiaries?from=2026-01-01&to=2026-05-31", headers=world["county"]
        ),
        200,
    )
    # two women, 24000.00; jobs: A's visit counts 5, B keeps her project's 3
    assert (people["total"]["women_supported"], people["total"]["loans_disbursed"]) == (2, 2)
    assert (people["total"]["amount_disbursed"], people["total"]["jobs_created"]) == ("24000.00", 8)


async def test_report_scope_and_input_errors(client, world, engine):
    await portfolio(client, world)
    mine = expect(
        await client.get("/api/v1/reports/repayment-rate?as_of=2026-05-31", headers=world["township_other"]),
        200,
    )
    assert mine["total"]["principal_due"] == "0.00"
    outside = await client.get(
        f"/api/v1/reports/repayment-rate?as_of=2026-05-31&region_code={OTHER_COUNTY}", headers=world["county"]
    )
    assert outside.status_code == 404
    bad_group = await client.get("/api/v1/reports/repayment-rate?group_by=colour", headers=world["county"])
    assert bad_group.status_code == 422 and bad_group.json()["errors"][0]["field"] == "group_by"
    no_period = await client.get("/api/v1/reports/beneficiaries", headers=world["county"])
    assert no_period.status_code == 422
    unknown = await client.get("/api/v1/reports/horoscope", headers=world["county"])
    assert unknown.status_code == 404


async def test_county_risk_as_json_and_in_the_background(client, world, engine, run_jobs):
    await portfolio(client, world)
    risk = expect(
        await client.get(
            f"/api/v1/reports/county-risk?county_code={COUNTY}&as_of=2026-05-31", headers=world["county"]
        ),
        200,
    )
    assert risk["county_code"] == COUNTY
    assert [item["contract_no"] for item in risk["overdue"]] == ["RPT-B", "RPT-A"]  # by days past due
    assert any(flag["subject"] for flag in risk["flags"])  # the township is below 100 %
    job = expect(
        await client.get(
            f"/api/v1/reports/county-risk?county_code={COUNTY}&as_of=2026-05-31&format=json&async=true",
            headers=world["county"],
        ),
        202,
    )
    await run_jobs()
    done = expect(await client.get(f"/api/v1/jobs/{job['id']}", headers=world["county"]), 200)
    assert done["status"] == "done", done
    download = await client.get(done["result"]["download"], headers=world["county"])
    assert download.status_code == 200 and download.json()["overdue"] == risk["overdue"]
    other = await client.get(done["result"]["download"], headers=world["township"])
    assert other.status_code == 404  # not her job


async def test_county_risk_workbook_page_and_csv(client, world, engine):
    import io

    import polars as pl

    await portfolio(client, world)
    url = f"/api/v1/reports/county-risk?county_code={COUNTY}&as_of=2026-05-31"
    workbook = await client.get(url + "&format=xlsx", headers=world["county"])
    assert workbook.status_code == 200 and workbook.headers["content-type"].startswith(
        "application/vnd.openxml"
    )
    sheets = pl.read_excel(io.BytesIO(workbook.content), sheet_id=0)
    assert "逾期清单" in sheets and sheets["逾期清单"].height == 2
    page = await client.get(url + "&format=html", headers=world["county"])
    assert page.status_code == 200 and page.text.count("<svg") == 3 and "金川区" in page.text
    assert all(national_id not in page.text for national_id in await full_ids(client, world))
    csv = await client.get(
        "/api/v1/reports/repayment-rate?as_of=2026-05-31&group_by=township&format=csv",
        headers=world["county"],
    )
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    wrong = await client.get(url + "&format=pdf", headers=world["county"])
    assert wrong.status_code == 422


async def full_ids(client, world) -> list[str]:
    applicants = expect(await client.get("/api/v1/applicants", headers=world["township"]), 200)
    return [a["national_id"] for a in applicants["items"]]


async def test_weekly_county_clustering_keeps_every_row_and_the_report(client, world, engine, settings):
    """The job rewrites the county-scoped tables in county order: the same rows, the same county risk page, and
    each table's rows in county order on disk."""
    from sqlalchemy import select, text
    from sqlalchemy.ext.asyncio import AsyncSession

    from loans.jobs.models import Job
    from loans.reporting.locality import COUNTY_INDEXES
    from workers.settings import shutdown, startup
    from workers.tasks import weekly_county_clustering

    await portfolio(client, world)
    url = f"/api/v1/reports/county-risk?county_code={COUNTY}&as_of=2026-05-31"
    before = expect(await client.get(url, headers=world["county"]), 200)
    counts = "SELECT " + ", ".join(f"(SELECT count(*) FROM {table})" for table in COUNTY_INDEXES)
    async with engine.connect() as connection:
        rows_before = (await connection.execute(text(counts))).one()
    ctx = {"settings": settings, "job_try": 1}
    await startup(ctx)
    ctx["max_tries"] = 1
    try:
        result = await weekly_county_clustering(ctx)
    finally:
        await shutdown(ctx)
    assert set(result["seconds"]) == set(COUNTY_INDEXES)
    async with engine.connect() as connection:
        assert (await connection.execute(text(counts))).one() == rows_before
        for table in COUNTY_INDEXES:
            on_disk = list(await connection.scalars(text(f"SELECT county_code FROM {table} ORDER BY ctid")))
            assert on_disk == sorted(on_disk), table
    async with AsyncSession(engine) as session:
        job = await session.scalar(select(Job).where(Job.kind == "cluster_by_county"))
    assert job is not None and job.status == "done"
    assert expect(await client.get(url, headers=world["county"]), 200) == before
