"""The service's "today" is its settings' clock: one app on the system clock, another on a fixed one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from litestar.testing import AsyncTestClient

from loans.core.clock import FixedClock
from loans.server.app import create_app
from tests.support.http import API, expect, expect_invalid
from tests.support.ids import female_id
from tests.support.journeys import applicant_body, business_today


def eighteen_in_a_few_days(today: date) -> date:
    return date(today.year - 18, today.month, min(today.day, 28)) + timedelta(days=10)


async def test_an_app_on_a_fixed_clock_takes_its_day_for_today(client, settings, world):
    birth = eighteen_in_a_few_days(business_today())
    expect_invalid(
        await client.post(
            f"{API}/applicants", json=applicant_body(national_id=female_id(birth)), headers=world["township"]
        ),
        "national_id",
    )
    a_month_on = datetime.combine(business_today() + timedelta(days=30), time(4), tzinfo=UTC)
    async with AsyncTestClient(app=create_app(settings.with_clock(FixedClock(a_month_on)))) as later:
        registered = expect(
            await later.post(
                f"{API}/applicants",
                json=applicant_body(national_id=female_id(birth)),
                headers=world["township"],
            ),
            201,
        )
    assert registered["age"] == 18
