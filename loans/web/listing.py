"""Rows for the list pages: an application or a loan beside its applicant as the API shows her (ID masked as
the caller's role requires) and the Chinese names of its regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.schemas import ApplicantOut
from loans.applicants.service import ApplicantService, reveals_full_id
from loans.applications.service import ApplicationView
from loans.core.actor import Actor
from loans.core.clock import today
from loans.regions.codes import RegionLevel
from loans.regions.models import Region
from loans.regions.service import RegionService
from loans.settings import Settings


async def region_names(session: AsyncSession, actor: Actor) -> dict[str, str]:
    return {r.code: r.name for r in await RegionService(session, actor).list(None, None)}


async def applicants_shown(
    session: AsyncSession, actor: Actor, settings: Settings, applicant_ids: Iterable[UUID]
) -> dict[UUID, ApplicantOut]:
    found = await ApplicantService(session, actor, settings).by_ids(applicant_ids)
    day, reveal = today(settings), reveals_full_id(actor)
    return {i: ApplicantOut.of(a, today=day, reveal_id=reveal) for i, a in found.items()}


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
    session: AsyncSession, actor: Actor, settings: Settings, views: list[ApplicationView]
) -> list[ApplicationRow]:
    people = await applicants_shown(session, actor, settings, (v.application.applicant_id for v in views))
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
