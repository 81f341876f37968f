"""Users' access can be taken back: deactivation, a password or scope change and logout end tokens at once;
sign-in is throttled per username and per address and does not tell which usernames exist; weak passwords are
refused (issue 21)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from itertools import count
from statistics import mean
from uuid import UUID

import pytest
from litestar import Litestar
from redis.asyncio import Redis
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.core.roles import Role
from loans.demo.setup import actor_of
from loans.users.auth import STANDING_TTL, TokenStandings
from loans.users.models import User
from loans.users.password_policy import DEMO_PASSWORD
from loans.users.schemas import UserCreate
from loans.users.service import UserService
from loans.users.throttle import LoginThrottle, TooManyAttempts
from tests.support.http import API, client_of, expect, expect_invalid
from tests.support.journeys import applicant_body, unique
from tests.support.world import COUNTY, PASSWORD, TOWNSHIP, VILLAGE, World

_addresses = count(1)


def new_address() -> str:
    """A client address no other test signs in from (the throttle counts per address)."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


async def new_user(client, world: World, role: str = "township_staff", region_code: str = TOWNSHIP) -> dict:
    body = {"username": unique("acct"), "password": PASSWORD, "role": role, "region_code": region_code}
    return expect(await client.post(f"{API}/users", json=body, headers=world["admin"]), 201)


async def sign_in(client, username: str, password: str = PASSWORD):
    return await client.post(f"{API}/auth/token", json={"username": username, "password": password})


async def bearer(client, username: str, password: str = PASSWORD) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {expect(await sign_in(client, username, password), 200)['access_token']}"
    }


async def can_read_and_write(client, headers: dict[str, str]) -> tuple[int, int]:
    read = await client.get(f"{API}/auth/me", headers=headers)
    write = await client.post(f"{API}/applicants", json=applicant_body(), headers=headers)
    return read.status_code, write.status_code


# --- tokens end at once -----------------------------------------------------------------------------------


async def test_a_deactivated_users_token_is_refused_for_reads_and_writes(client, world):
    user = await new_user(client, world)
    headers = await bearer(client, user["username"])
    assert await can_read_and_write(client, headers) == (200, 201)

    patched = await client.patch(f"{API}/users/{user['id']}", json={"active": False}, headers=world["admin"])
    assert expect(patched, 200)["is_active"] is False

    assert await can_read_and_write(client, headers) == (401, 401)
    assert (await sign_in(client, user["username"])).status_code == 401
    reactivated = await client.patch(
        f"{API}/users/{user['id']}", json={"active": True}, headers=world["admin"]
    )
    expect(reactivated, 200)
    assert await can_read_and_write(client, headers) == (401, 401)  # reactivation does not revive old tokens
    assert await can_read_and_write(client, await bearer(client, user["username"])) == (200, 201)


async def test_a_password_change_ends_every_old_token_and_answers_a_new_one(client, world):
    user = await new_user(client, world)
    first, second = await bearer(client, user["username"]), await bearer(client, user["username"])
    body = {"old_password": PASSWORD, "new_password": "a-new-and-long-secret"}
    answer = expect(await client.post(f"{API}/auth/password", json=body, headers=first), 200)

    assert await can_read_and_write(client, first) == (401, 401)
    assert await can_read_and_write(client, second) == (401, 401)
    fresh = {"Authorization": f"Bearer {answer['access_token']}"}
    assert await can_read_and_write(client, fresh) == (200, 201)
    assert (await sign_in(client, user["username"])).status_code == 401
    assert (await sign_in(client, user["username"], "a-new-and-long-secret")).status_code == 200


async def test_a_password_change_needs_the_old_password_and_a_strong_new_one(client, world):
    user = await new_user(client, world)
    headers = await bearer(client, user["username"])
    wrong_old = {"old_password": "not-my-password", "new_password": "a-new-and-long-secret"}
    expect_invalid(await client.post(f"{API}/auth/password", json=wrong_old, headers=headers), "old_password")
    weak_new = {"old_password": PASSWORD, "new_password": "qwertyuiop"}
    expect_invalid(await client.post(f"{API}/auth/password", json=weak_new, headers=headers), "new_password")
    assert await can_read_and_write(client, headers) == (200, 201)  # nothing changed


async def test_a_role_or_scope_change_ends_old_tokens(client, world):
    user = await new_user(client, world)
    headers = await bearer(client, user["username"])
    url = f"{API}/users/{user['id']}"
    expect(await client.patch(url, json={"display_name": "宁远堡镇妇联"}, headers=world["admin"]), 200)
    assert await can_read_and_write(client, headers) == (200, 201)  # a name is not access: the token holds

    body = {"role": "village_officer", "region_code": VILLAGE}
    changed = expect(await client.patch(url, json=body, headers=world["admin"]), 200)
    assert (changed["role"], changed["region_code"]) == ("village_officer", VILLAGE)
    assert (await client.get(f"{API}/auth/me", headers=headers)).status_code == 401
    me = expect(await client.get(f"{API}/auth/me", headers=await bearer(client, user["username"])), 200)
    assert me["role"] == "village_officer"


async def test_a_bank_change_ends_a_liaisons_tokens(client, world):
    body = {"username": unique("acct"), "password": PASSWORD, "role": "bank_liaison", "region_code": COUNTY}
    user = expect(
        await client.post(f"{API}/users", json=body | {"bank_code": "ABC-JC"}, headers=world["admin"]), 201
    )
    headers = await bearer(client, user["username"])
    moved = await client.patch(
        f"{API}/users/{user['id']}", json={"bank_code": "RCC-JC"}, headers=world["admin"]
    )
    assert expect(moved, 200)["bank_code"] == "RCC-JC"
    assert (await client.get(f"{API}/auth/me", headers=headers)).status_code == 401


async def test_logout_ends_the_callers_tokens(client, world):
    user = await new_user(client, world)
    headers, other_session = await bearer(client, user["username"]), await bearer(client, user["username"])
    assert (await client.post(f"{API}/auth/logout", headers=headers)).status_code == 204
    assert await can_read_and_write(client, headers) == (401, 401)
    assert await can_read_and_write(client, other_session) == (401, 401)
    assert await can_read_and_write(client, await bearer(client, user["username"])) == (200, 201)


async def test_a_change_made_elsewhere_is_seen_within_the_standing_ttl(engine: AsyncEngine, client, world):
    """Another API process (here: a change straight in PostgreSQL) is seen once the remembered standing ages."""
    user = await new_user(client, world)
    standings = TokenStandings(lambda: engine)
    user_id = UUID(user["id"])
    seen = await standings.of(user_id)
    assert seen is not None and seen.active
    async with AsyncSession(engine) as session:
        await session.execute(
            update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
        )
        await session.commit()
    await asyncio.sleep(STANDING_TTL)
    after = await standings.of(user_id)
    assert after is not None and after.token_version == seen.token_version + 1


async def test_patching_a_user_is_for_admins_and_checks_the_scope(client, world):
    user = await new_user(client, world)
    url = f"{API}/users/{user['id']}"
    assert (await client.patch(url, json={"active": False}, headers=world["county"])).status_code == 403
    expect_invalid(
        await client.patch(url, json={"role": "bank_liaison"}, headers=world["admin"]), "bank_code"
    )
    expect_invalid(
        await client.patch(url, json={"region_code": "999999999999"}, headers=world["admin"]), "region_code"
    )
    missing = f"{API}/users/0190a4c2-0000-7000-8000-00000000dead"
    assert (await client.patch(missing, json={"active": False}, headers=world["admin"])).status_code == 404
    me = expect(await client.get(f"{API}/auth/me", headers=world["admin"]), 200)
    own = await client.patch(f"{API}/users/{me['id']}", json={"active": False}, headers=world["admin"])
    assert own.status_code == 409
    assert await can_read_and_write(client, await bearer(client, user["username"])) == (200, 201)


# --- sign-in throttling -----------------------------------------------------------------------------------


async def test_the_sixth_wrong_password_is_answered_429_and_so_is_the_right_one(
    served_app: Litestar, client, world
):
    user = await new_user(client, world)
    async with client_of(served_app, new_address()) as caller:
        for _ in range(5):
            assert (await sign_in(caller, user["username"], "wrong-password-123")).status_code == 401
        throttled = await sign_in(caller, user["username"], "wrong-password-123")
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 30
        assert throttled.json()["detail_zh"]
        right = await sign_in(caller, user["username"])
        assert right.status_code == 429 and "retry-after" in right.headers
    async with client_of(served_app, new_address()) as elsewhere:  # the username is locked from every address
        assert (await sign_in(elsewhere, user["username"])).status_code == 429


async def test_failures_from_one_address_lock_it_for_every_username(served_app: Litestar, client, world):
    user = await new_user(client, world)
    attacker = new_address()
    async with client_of(served_app, attacker) as caller:
        for i in range(5):
            assert (await sign_in(caller, f"nobody-{unique('x')}-{i}", "guess-password-1")).status_code == 401
        assert (await sign_in(caller, user["username"])).status_code == 429
    async with client_of(served_app, new_address()) as colleague:
        assert (await sign_in(colleague, user["username"])).status_code == 200


async def test_attempts_sent_at_once_cannot_slip_past_the_limit(served_app: Litestar, client, world):
    user = await new_user(client, world)
    async with client_of(served_app, new_address()) as caller:
        answers = await asyncio.gather(
            *(sign_in(caller, user["username"], f"guess-{i:08d}") for i in range(12))
        )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) <= 5 and codes.count(429) >= 7, codes


async def test_a_right_password_clears_the_usernames_failures(served_app: Litestar, client, world):
    user = await new_user(client, world)
    async with client_of(served_app, new_address()) as caller:
        for _ in range(4):
            assert (await sign_in(caller, user["username"], "wrong-password-123")).status_code == 401
        assert (await sign_in(caller, user["username"])).status_code == 200
    async with client_of(served_app, new_address()) as caller:
        for _ in range(4):
            assert (await sign_in(caller, user["username"], "wrong-password-123")).status_code == 401
        assert (await sign_in(caller, user["username"])).status_code == 200


async def test_the_lock_grows_with_every_further_failure(servers):
    """The throttle alone (no argon2 between attempts, whose time on a loaded machine would blur the waits)."""
    redis = Redis.from_url(servers.redis_url)
    throttle = LoginThrottle(redis, first_wait=timedelta(seconds=1), longest_wait=timedelta(seconds=3))
    username, address = unique("locked"), new_address()
    waits = []
    try:
        for _ in range(5):
            await throttle.begin(username, address)  # five failures: the fifth locks
        for _ in range(3):
            with pytest.raises(TooManyAttempts) as locked:
                await throttle.begin(username, address)
            waits.append(int(locked.value.headers["Retry-After"]))
            await asyncio.sleep(waits[-1] + 0.05)
            await throttle.begin(username, address)  # one more failure once the lock is over
    finally:
        await redis.aclose()
    assert waits == [1, 2, 3], waits  # the first wait, doubled, then the longest


async def test_an_unknown_username_is_answered_in_the_time_of_a_wrong_password(
    served_app: Litestar, client, world
):
    """Interleaved tries, each from an address of its own, so load on the machine falls on both alike."""
    user = await new_user(client, world)
    unknown, wrong = [], []
    for round_no in range(8):
        async with client_of(served_app, new_address()) as caller:
            for username, times in ((f"nobody-{unique('t')}", unknown), (user["username"], wrong)):
                started = time.perf_counter()
                answer = await sign_in(caller, username, "wrong-password-123")
                times.append(time.perf_counter() - started)
                assert answer.status_code == 401
            if round_no % 2 == 1:  # the username's failures taken back before they lock it
                assert (await sign_in(caller, user["username"])).status_code == 200
    ratio = mean(unknown) / mean(wrong)
    assert 0.5 < ratio < 2.0, (mean(unknown), mean(wrong))


# --- passwords --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "short-pw",  # under ten characters
        "{username}-2026",  # holds the username
        "qwertyuiop",  # in the common list
        "Password2026!",  # a common one with digits and symbols around it
        "woaini1314520",  # common among Chinese users
        "1212121212",  # too few different characters
        DEMO_PASSWORD,  # published
    ],
)
async def test_a_weak_password_is_refused_naming_password(client, world, password):
    username = unique("weak")
    body = {"username": username, "password": password.format(username=username), "role": "auditor"}
    answer = await client.post(f"{API}/users", json=body | {"region_code": COUNTY}, headers=world["admin"])
    expect_invalid(answer, "password")


async def test_the_demo_password_is_only_for_demo_users(engine: AsyncEngine, world):
    data = UserCreate(username=unique("demo"), password=DEMO_PASSWORD, role=Role.AUDITOR, region_code=COUNTY)
    async with AsyncSession(engine) as session:
        users = UserService(session)
        admin = actor_of(await session.scalar(select(User).where(User.username == "admin")))
        demo_user = await users.create_demo_user(data, admin)
        assert await users.verify_credentials(demo_user.username, DEMO_PASSWORD) is not None
        with pytest.raises(ValueError):
            await users.create_demo_user(data.model_copy(update={"password": PASSWORD}), admin)
        await session.rollback()
