"""Bad input answers 4xx naming the field, never 5xx: each cause found by schemathesis and by hand (issue 21)
as a test of its own, and amounts and rates read by one grammar everywhere."""

from __future__ import annotations

import pytest

from tests.support.http import API, expect, expect_invalid
from tests.support.journeys import business_today, deposit_into, new_fund, unique
from tests.support.world import World, fund_body, product_body

NUL_IN_QUERY = [
    "/applicants?q=a%00b",
    "/loans?status=a%00b",
    "/applications?region_code=62%0030",
    "/reminders?event=x%00",
    "/reports/repayment-rate?bank_code=%00",
]


@pytest.mark.parametrize("parameter", ["offset", "limit"])
@pytest.mark.parametrize("path", ["/loans", "/applicants", "/applications", "/reminders"])
async def test_a_page_beyond_a_bigint_is_refused_naming_the_parameter(client, world: World, path, parameter):
    response = await client.get(f"{API}{path}?{parameter}=9223372036854775808", headers=world["county"])
    expect_invalid(response, parameter)


async def test_the_largest_offset_allowed_answers_an_empty_page(client, world: World):
    page = expect(await client.get(f"{API}/loans?offset=1000000000", headers=world["county"]), 200)
    assert page["items"] == [] and page["offset"] == 1_000_000_000


@pytest.mark.parametrize("query", NUL_IN_QUERY)
async def test_a_nul_byte_in_a_query_parameter_is_refused_naming_it(client, world: World, query):
    response = await client.get(f"{API}{query}", headers=world["county"])
    field = query.split("?")[1].split("=")[0]
    expect_invalid(response, field)


async def test_a_nul_byte_in_a_path_parameter_is_refused(client, world: World):
    response = await client.get(f"{API}/regions/6203%0002000000", headers=world["county"])
    expect_invalid(response, "code")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/guarantee-funds", fund_body(name="基金\u0000"), "name"),
        ("/applicants", {"national_id": "x", "name": "李\u0000", "village_code": "620302100201"}, "name"),
        ("/banks", {"code": "NUL-1", "name": "银行\u0000", "county_code": "620302000000"}, "name"),
    ],
)
async def test_a_nul_byte_in_a_json_string_is_refused_naming_the_field(
    client, world: World, path, body, field
):
    expect_invalid(await client.post(f"{API}{path}", json=body, headers=world["admin"]), field)


@pytest.mark.parametrize("leverage", ["0.001", "0.004", "5.125", "0", "0.00", "21", 5, 5.5, "-1"])
async def test_a_leverage_the_fund_cannot_keep_is_refused(client, world: World, leverage):
    body = fund_body(name=unique("杠杆"), leverage=leverage)
    expect_invalid(
        await client.post(f"{API}/guarantee-funds", json=body, headers=world["county"]), "leverage"
    )


async def test_a_leverage_with_two_decimals_is_kept_exactly(client, world: World):
    fund_id = await new_fund(client, world, leverage="7.25")
    fund = expect(await client.get(f"{API}/guarantee-funds/{fund_id}", headers=world["county"]), 200)
    assert fund["leverage"] == "7.25"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_annual_rate", "0.0600001"),  # stored with 6 places
        ("subsidy_share", "0.12345"),  # stored with 4 places
        ("penalty_markup", "0.50001"),
        ("max_annual_rate", 0.06),
        ("subsidy_share", "1.5"),
        ("penalty_markup", "5e-1"),
    ],
)
async def test_a_rate_with_more_places_than_stored_is_refused_not_rounded(client, world: World, field, value):
    body = product_body(code=unique("RATE"), **{field: value})
    expect_invalid(await client.post(f"{API}/products", json=body, headers=world["admin"]), field)


async def test_a_rate_with_the_stored_places_is_echoed_exactly(client, world: World):
    body = product_body(code=unique("RATE"), max_annual_rate="0.043525", subsidy_share="0.3333")
    product = expect(await client.post(f"{API}/products", json=body, headers=world["admin"]), 201)
    assert product["max_annual_rate"] == "0.043525" and product["subsidy_share"] == "0.3333"


async def test_an_upload_without_a_data_part_is_refused_naming_it(client, world: World):
    response = await client.post(
        f"{API}/imports/repayments", files={"file": ("r.csv", b"x", "text/csv")}, headers=world["bank"]
    )
    expect_invalid(response, "data")


async def test_an_upload_with_two_data_parts_is_refused_naming_it(client, world: World):
    parts = [("data", ("a.csv", b"a", "text/csv")), ("data", ("b.csv", b"b", "text/csv"))]
    response = await client.post(f"{API}/imports/repayments", files=parts, headers=world["bank"])
    expect_invalid(response, "data")


@pytest.mark.parametrize("name", ["beneficiaries", "subsidy", "repayment-rate"])
async def test_a_report_period_ending_after_as_of_is_refused(client, world: World, name):
    query = "as_of=2026-01-01&from=2025-01-01&to=2026-06-01"
    expect_invalid(await client.get(f"{API}/reports/{name}?{query}", headers=world["county"]), "to")


async def test_a_report_period_ending_in_the_future_is_refused(client, world: World):
    tomorrow = business_today().replace(year=business_today().year + 1)
    query = f"from=2025-01-01&to={tomorrow.isoformat()}"
    expect_invalid(await client.get(f"{API}/reports/beneficiaries?{query}", headers=world["county"]), "to")


@pytest.mark.parametrize("group_by", ["township,township", "bank,month,bank"])
async def test_a_grouping_named_twice_is_refused(client, world: World, group_by):
    response = await client.get(f"{API}/reports/repayment-rate?group_by={group_by}", headers=world["county"])
    expect_invalid(response, "group_by")


@pytest.mark.parametrize("opening", ["[", '{"a":'])
async def test_a_json_body_nested_100k_deep_answers_400(client, world: World, opening):
    closing = "]" if opening == "[" else "}"
    body = opening * 100_000 + "1" + closing * 100_000
    response = await client.post(
        f"{API}/guarantee-funds",
        content=body,
        headers={**world["county"], "content-type": "application/json"},
    )
    body = expect(response, 400)
    assert body["errors"][0]["field"] == "body" and body["detail_zh"]


AMOUNTS_REFUSED = [
    "1e3",
    "1E3",
    "1_000",
    "１０００",
    "1,000.00",
    "1000.001",
    "-5",
    "+5",
    " 5",
    "5 ",
    "0x10",
    "Infinity",
    "NaN",
    "",
    ".5",
    "5.",
    "0",
    "0.00",
    "1000000000.01",
    1000,
    1000.5,
    True,
    None,
    ["1"],
]


@pytest.mark.parametrize("amount", AMOUNTS_REFUSED)
async def test_the_api_takes_an_amount_only_as_a_plain_decimal_string(client, world: World, fund_id, amount):
    body = {"amount": amount, "deposited_on": business_today().isoformat(), "reference": unique("DEP")}
    response = await client.post(
        f"{API}/guarantee-funds/{fund_id}/deposits", json=body, headers=world["county"]
    )
    expect_invalid(response, "amount")


@pytest.mark.parametrize(
    ("amount", "echo"), [("1000", "1000.00"), ("0.5", "0.50"), ("1000000000.00", "1000000000.00")]
)
async def test_the_api_reads_a_plain_amount_exactly(client, world: World, fund_id, amount, echo):
    entry = await deposit_into(client, world, fund_id, amount)
    assert entry["amount"] == echo


async def test_the_api_names_a_nested_amount(client, world: World):
    body = product_body(code=unique("AMT"))
    body["max_amount"]["individual"] = "3e5"
    response = await client.post(f"{API}/products", json=body, headers=world["admin"])
    expect_invalid(response, "max_amount.individual")
