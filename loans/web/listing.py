"""Rows for the list pages: an application or a loan beside its applicant as the API shows her (ID masked as
the caller's role requires) and the Chinese names of its regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.controllers import shown
from loans.applicants.schemas import ApplicantOut
from loans.applicants.service import ApplicantService
from loans.applications.service import ApplicationView
from loans.core.actor import Actor
from loans.core.region_codes import RegionLevel
from loans.regions.models import Region
from loans.regions.service import RegionService
from loans.settings import Settings


async def region_names(session: AsyncSession, actor: Actor) -> dict[str, str]:
    return {r.code: r.name for r in await RegionService(session, actor).list(None, None)}


async def applicants_shown(
    request: Request, session: AsyncSession, actor: Actor, settings: Settings, applicant_ids: Iterable[UUID]
) -> dict[UUID, ApplicantOut]:
    """The applicants as the caller may see them (Disclosure decides and logs the full IDs shown)."""
    found = await ApplicantService(session, actor, settings).by_ids(applicant_ids)
    return {a.id: a for a in await shown(list(found.values()), request, session, actor, settings)}


async def local_regions(session: AsyncSession, actor: Actor) -> list[Region]:
    """The townships and villages the user may filter a list by."""
    regions = await RegionService(session, actor).list(None, None)
    return [r for r in regions if r.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)]


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    view: ApplicationView
    applicant: ApplicantOut | None
    township: str
    village: str


async def application_rows(
    request: Request, session: AsyncSession, actor: Actor, settings: Settings, views: list[ApplicationView]
) -> list[ApplicationRow]:
    people = await applicants_shown(
        request, session, actor, settings, (v.application.applicant_id for v in views)
    )
    names = await region_names(session, actor)
    return [
        ApplicationRow(
            view=v,
            applicant=people.get(v.application.applicant_id),
            township=names.get(v.application.township_code, v.application.township_code),
            village=names.get(v.application.village_code, v.application.village_code),
        )
        for v in views
    ]
