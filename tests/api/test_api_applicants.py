"""Applicants (SPEC section 3): registration rules, the masked ID, scope, search and trainings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.support.http import API, expect, expect_conflict, expect_invalid
from tests.support.ids import female_id, male_id, with_check_digit
from tests.support.journeys import applicant_body, business_today, create_application, register
from tests.support.world import OTHER_TOWNSHIP_VILLAGE, TOWNSHIP, VILLAGE, VILLAGE_2

# 620302 + 1990-03-15 + sequence 122 (even: a woman); check digit computed by tests/support/ids.py.
BORN_1990 = with_check_digit("62030219900315122")


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


async def test_registration_derives_birth_date_and_age_and_masks_the_id(client, world):
    response = await client.post(
        f"{API}/applicants",
        json=applicant_body(national_id=BORN_1990, name="张桂兰", categories=["rural", "returning_migrant"]),
        headers=world["township"],
    )
    body = expect(response, 201)
    assert body["national_id_masked"] == "620302********" + BORN_1990[-4:]
    assert body["national_id"] == BORN_1990
    assert body["birth_date"] == "1990-03-15"
    assert body["age"] == age_on(date(1990, 3, 15), business_today())
    assert body["village_code"] == VILLAGE
    assert body["township_code"] == TOWNSHIP
    assert body["county_code"] == "620302000000"
    assert sorted(body["categories"]) == ["returning_migrant", "rural"]


async def test_a_lowercase_x_check_character_is_accepted_and_stored_upper_case(client, world):
    # Find a birth sequence whose check character is X, independently of the code under test.
    number = next(
        n
        for n in (with_check_digit(f"62030219880808{seq:03d}") for seq in range(0, 999, 2))
        if n.endswith("X")
    )
    body = await register(client, world, national_id=number.lower())
    assert body["national_id"] == number
    assert body["national_id_masked"].endswith(number[-4:])


@pytest.mark.parametrize(
    ("user", "sees_full_id"),
    [
        ("township", True),
        ("bank", True),
        ("county", False),
        ("auditor", False),
        ("village", False),
        ("admin", False),
    ],
)
async def test_township_staff_and_the_liaisons_of_her_bank_see_the_full_id(
    client, world, fund_id, user, sees_full_id
):
    applicant = await register(client, world, national_id=BORN_1990)
    await create_application(client, world, fund_id, applicant=applicant)  # with the fund's bank
    one = expect(await client.get(f"{API}/applicants/{applicant['id']}", headers=world[user]), 200)
    page = expect(await client.get(f"{API}/applicants", headers=world[user]), 200)
    assert [a["id"] for a in page["items"]] == [applicant["id"]]
    for shown in (one, page["items"][0]):
        assert shown["national_id_masked"] == "620302********" + BORN_1990[-4:]
        assert shown["national_id"] == (BORN_1990 if sees_full_id else None)
        assert shown["phone"] == ("13909350001" if sees_full_id else None)
        assert shown["phone_masked"] == "139****0001"
        assert shown["birth_date"] == ("1990-03-15" if sees_full_id else None)
        assert shown["age"] == age_on(date(1990, 3, 15), business_today())
        if (
            not sees_full_id
        ):  # nothing the mask hides: neither the number, nor its birth digits, nor the phone
            for hidden in (BORN_1990, "19900315", "1990-03-15", "13909350001"):
                assert hidden not in str(shown), (user, hidden)


def _bad_check_digit() -> str:
    good = female_id()
    wrong = "0" if good[-1] != "0" else "1"
    return good[:-1] + wrong


def _invalid_ids() -> list[tuple[str, str]]:
    today = business_today()
    return [
        ("wrong check digit", _bad_check_digit()),
        ("male", male_id()),
        ("under 18", female_id(birth=years_before(today, 18) + timedelta(days=3))),
        ("over 60", female_id(birth=years_before(today, 61) - timedelta(days=3))),
        ("birth date 30 February", with_check_digit("62030219900230122")),
        ("birth date in the future", female_id(birth=today + timedelta(days=400))),
        ("17 characters", female_id()[:17]),
        ("19 characters", female_id() + "2"),
        ("letter inside", "62030219900315A22" + "2"),
        ("empty after trimming", "   "),
    ]


@pytest.mark.parametrize(("reason", "number"), _invalid_ids(), ids=[r for r, _ in _invalid_ids()])
async def test_invalid_national_ids_answer_422_naming_the_field(client, world, reason, number):
    response = await client.post(
        f"{API}/applicants", json=applicant_body(national_id=number), headers=world["township"]
    )
    expect_invalid(response, "national_id")
    if number.strip():
        assert number.strip() not in response.text, "the number must not be echoed back"
    listed = expect(await client.get(f"{API}/applicants", headers=world["township"]), 200)
    assert listed["total"] == 0


@pytest.mark.parametrize("age", [18, 60])
async def test_ages_at_the_bounds_are_accepted(client, world, age):
    today = business_today()
    birth = years_before(today, age) if age == 18 else years_before(today, age + 1) + timedelta(days=1)
    body = await register(client, world, national_id=female_id(birth=birth))
    assert body["age"] == age


async def test_second_registration_of_one_id_answers_409_with_the_existing_id(client, world):
    first = await register(client, world, national_id=BORN_1990)
    again = await client.post(
        f"{API}/applicants",
        json=applicant_body(national_id=BORN_1990, name="别名"),
        headers=world["township"],
    )
    expect_conflict(again, existing_id=first["id"])
    # The same woman registered by another township's office is still the same applicant.
    elsewhere = await client.post(
        f"{API}/applicants",
        json=applicant_body(national_id=BORN_1990.lower(), village_code=OTHER_TOWNSHIP_VILLAGE),
        headers=world["township_other"],
    )
    expect_conflict(elsewhere, existing_id=first["id"])
    assert expect(await client.get(f"{API}/applicants", headers=world["admin"]), 200)["total"] == 1


@pytest.mark.parametrize(
    ("user", "village"),
    [
        ("township", OTHER_TOWNSHIP_VILLAGE),  # another township of the same county
        ("township_other", VILLAGE),
        ("other_county", VILLAGE),
        ("township", TOWNSHIP),  # a township code, not a village
        ("township", "620302100299"),  # no such village
    ],
)
async def test_a_village_outside_the_callers_township_answers_422(client, world, user, village):
    response = await client.post(
        f"{API}/applicants", json=applicant_body(village_code=village), headers=world[user]
    )
    expect_invalid(response, "village_code")


@pytest.mark.parametrize("user", ["village", "county", "bank", "auditor", "admin"])
async def test_only_township_staff_register_applicants(client, world, user):
    response = await client.post(f"{API}/applicants", json=applicant_body(), headers=world[user])
    assert response.status_code == 403, response.text
    assert expect(await client.get(f"{API}/applicants", headers=world["admin"]), 200)["total"] == 0


async def test_listing_is_paginated_and_scoped(client, world):
    registered = [await register(client, world, name=f"王{n}") for n in range(3)]
    registered.append(await register(client, world, name="赵四", village_code=VILLAGE_2))
    first = expect(await client.get(f"{API}/applicants?limit=3&offset=0", headers=world["township"]), 200)
    assert set(first) >= {"items", "total", "limit", "offset"}
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (4, 3, 0, 3)
    rest = expect(await client.get(f"{API}/applicants?limit=3&offset=3", headers=world["township"]), 200)
    assert (rest["total"], rest["offset"], len(rest["items"])) == (4, 3, 1)
    assert {a["id"] for a in first["items"] + rest["items"]} == {a["id"] for a in registered}

    # the village officer sees her village only; another township and another county see nothing
    village = expect(await client.get(f"{API}/applicants", headers=world["village"]), 200)
    assert village["total"] == 3 and all(a["village_code"] == VILLAGE for a in village["items"])
    for user in ("township_other", "other_county", "other_county_officer"):
        page = expect(await client.get(f"{API}/applicants", headers=world[user]), 200)
        assert (page["total"], page["items"]) == (0, []), user
    # filter by region
    by_village = expect(
        await client.get(f"{API}/applicants?region_code={VILLAGE_2}", headers=world["county"]), 200
    )
    assert [a["name"] for a in by_village["items"]] == ["赵四"]


@pytest.mark.parametrize("user", ["township_other", "other_county", "other_county_officer"])
async def test_an_applicant_outside_the_scope_answers_404(client, world, user):
    applicant = await register(client, world)
    response = await client.get(f"{API}/applicants/{applicant['id']}", headers=world[user])
    assert response.status_code == 404, response.text
    assert applicant["name"] not in response.text


async def test_a_village_officer_does_not_see_another_village(client, world):
    applicant = await register(client, world, village_code=VILLAGE_2)
    response = await client.get(f"{API}/applicants/{applicant['id']}", headers=world["village"])
    assert response.status_code == 404, response.text


async def test_search_by_name_prefix_and_full_id(client, world):
    wang = await register(client, world, name="王秀兰", national_id=BORN_1990)
    await register(client, world, name="王芳")
    await register(client, world, name="李王氏")

    def names(page):
        return sorted(a["name"] for a in page["items"])

    by_prefix = expect(
        await client.get(f"{API}/applicants", params={"q": "王"}, headers=world["township"]), 200
    )
    assert names(by_prefix) == ["王秀兰", "王芳"] and by_prefix["total"] == 2
    by_longer = expect(
        await client.get(f"{API}/applicants", params={"q": "王秀"}, headers=world["township"]), 200
    )
    assert names(by_longer) == ["王秀兰"]
    by_id = expect(
        await client.get(f"{API}/applicants", params={"q": BORN_1990}, headers=world["township"]), 200
    )
    assert [a["id"] for a in by_id["items"]] == [wang["id"]]
    # a part of the ID is not a search key (it would let anyone enumerate numbers)
    partial = expect(
        await client.get(f"{API}/applicants", params={"q": BORN_1990[:10]}, headers=world["township"]), 200
    )
    assert partial["total"] == 0
    # LIKE wildcards in the query are literal characters, not patterns that match every name
    for wildcard in ("%", "_", "王%", "_芳"):
        page = expect(
            await client.get(f"{API}/applicants", params={"q": wildcard}, headers=world["township"]), 200
        )
        assert page["total"] == 0, (wildcard, names(page))
    # out of scope, the full ID finds nothing
    other = expect(
        await client.get(f"{API}/applicants", params={"q": BORN_1990}, headers=world["township_other"]), 200
    )
    assert other["total"] == 0


async def test_search_by_the_last_digits_of_an_id_or_a_phone(client, world):
    ending_x = next(
        n
        for n in (with_check_digit(f"62030219870707{seq:03d}") for seq in range(0, 999, 2))
        if n.endswith("X")
    )
    await register(client, world, name="尾号申请人", national_id=ending_x, phone="13909351357")
    await register(client, world, name="旁人", national_id=BORN_1990, phone="13909352468")

    async def found(q: str, who: str = "township") -> list[str]:
        page = expect(await client.get(f"{API}/applicants", params={"q": q}, headers=world[who]), 200)
        return [a["name"] for a in page["items"]]

    assert await found(ending_x[-4:]) == ["尾号申请人"]
    assert await found(ending_x[-6:].lower()) == ["尾号申请人"]  # the check character typed in lower case
    assert await found(BORN_1990[-6:]) == ["旁人"]
    assert await found("1357") == ["尾号申请人"]  # a phone's last digits
    assert await found(ending_x[-5:-1]) == []  # digits from the middle are no search key
    assert await found(ending_x[-4:], who="township_other") == []


async def test_filter_by_category(client, world):
    await register(client, world, name="甲", categories=["rural", "registered_poor"])
    await register(client, world, name="乙", categories=["graduate"])
    page = expect(
        await client.get(
            f"{API}/applicants", params={"category": "registered_poor"}, headers=world["county"]
        ),
        200,
    )
    assert [a["name"] for a in page["items"]] == ["甲"]


async def test_unknown_category_is_refused(client, world):
    response = await client.post(
        f"{API}/applicants", json=applicant_body(categories=["men"]), headers=world["township"]
    )
    assert response.status_code == 422, response.text


def training_body(**overrides):
    return {
        "course": "syb",
        "title": "巾帼创业SYB培训班",
        "provider": "金川区就业服务中心",
        "started_on": "2025-04-01",
        "finished_on": "2025-04-10",
        "certificate_no": "SYB-2025-0042",
        **overrides,
    }


async def test_trainings_are_added_and_listed_in_date_order(client, world):
    applicant = await register(client, world)
    url = f"{API}/applicants/{applicant['id']}/trainings"
    later = expect(await client.post(url, json=training_body(), headers=world["township"]), 201)
    assert later["applicant_id"] == applicant["id"] and later["certificate_no"] == "SYB-2025-0042"
    earlier = training_body(
        course="ecommerce",
        title="电商培训",
        started_on="2024-09-01",
        finished_on="2024-09-03",
        certificate_no=None,
    )
    expect(await client.post(url, json=earlier, headers=world["township"]), 201)
    listed = expect(await client.get(url, headers=world["county"]), 200)
    assert [t["course"] for t in listed] == ["ecommerce", "syb"]
    assert listed[0]["certificate_no"] is None


async def test_training_rules_and_scope(client, world):
    applicant = await register(client, world)
    url = f"{API}/applicants/{applicant['id']}/trainings"
    reversed_dates = training_body(started_on="2025-04-10", finished_on="2025-04-01")
    assert (await client.post(url, json=reversed_dates, headers=world["township"])).status_code == 422
    assert (await client.post(url, json=training_body(), headers=world["county"])).status_code == 403
    assert (await client.post(url, json=training_body(), headers=world["township_other"])).status_code == 404
    assert (await client.get(url, headers=world["other_county"])).status_code == 404
    assert expect(await client.get(url, headers=world["township"]), 200) == []
