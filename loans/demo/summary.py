"""What the database holds for the demo county, as ``loans demo-data`` reports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.models import Applicant, Training
from loans.applications.models import Application
from loans.banks.models import Bank
from loans.demo.counties import DemoCounty, demo_logins
from loans.funds.models import GuaranteeFund
from loans.lending.models import Loan
from loans.regions.models import Region
from loans.users.models import User


@dataclass
class DemoSummary:
    county_code: str
    county_name: str
    created: bool  # False when the county already existed and nothing was loaded
    regions: int
    banks: int
    users: int
    funds: int
    applicants: int
    trainings: int
    applications: int
    applications_by_status: dict[str, int]
    loans: int
    logins: list[tuple[str, str, str, str | None, str | None]] = field(default_factory=list)


async def summarize(session: AsyncSession, county: DemoCounty, *, created: bool) -> DemoSummary:
    """Counts of what the database holds for the demo county."""

    async def count(model: type, *conditions: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)

    by_status = {
        status: int(n)
        for status, n in await session.execute(
            select(Application.status, func.count())
            .where(Application.county_code == county.code)
            .group_by(Application.status)
        )
    }
    trainings = int(
        await session.scalar(
            select(func.count())
            .select_from(Training)
            .join(Applicant, Applicant.id == Training.applicant_id)
            .where(Applicant.county_code == county.code)
        )
        or 0
    )
    return DemoSummary(
        county_code=county.code,
        county_name=county.name,
        created=created,
        regions=await count(Region, Region.code.startswith(county.prefix)),
        banks=await count(Bank, Bank.county_code == county.code),
        users=await count(User, User.region_code.startswith(county.prefix)),
        funds=await count(GuaranteeFund, GuaranteeFund.county_code == county.code),
        applicants=await count(Applicant, Applicant.county_code == county.code),
        trainings=trainings,
        applications=sum(by_status.values()),
        applications_by_status=by_status,
        loans=await count(Loan, Loan.county_code == county.code),
        logins=demo_logins(county),
    )
