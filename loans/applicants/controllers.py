from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.disclosure import BankApplicants, Disclosure
from loans.applicants.models import Applicant
from loans.applicants.schemas import ApplicantCreate, ApplicantOut, TrainingCreate, TrainingOut
from loans.applicants.service import ApplicantService
from loans.core.actor import Actor
from loans.core.clock import today
from loans.core.schemas import Offset, Page
from loans.settings import Settings


def provide_applicants(
    db_session: AsyncSession, actor: Actor, settings: Settings, bank_applicants: BankApplicants
) -> ApplicantService:
    return ApplicantService(db_session, actor, settings, bank_applicants)


async def shown(
    applicants: list[Applicant], request: Request, service: ApplicantService
) -> list[ApplicantOut]:
    """The applicants as the caller may see them; the full IDs shown are logged against this endpoint."""
    endpoint = f"{request.method} {request.scope['path_template']}"
    disclosure = Disclosure(service.session, service.actor, service.bank_applicants)
    full = await disclosure.full_ids_shown(applicants, endpoint)
    day = today(service.settings)
    return [ApplicantOut.of(a, today=day, full_id=a.id in full) for a in applicants]


class ApplicantController(Controller):
    path = "/api/v1/applicants"
    tags = ["applicants"]
    dependencies = {"applicants": Provide(provide_applicants, sync_to_thread=False)}

    @post("/")
    async def register_applicant(
        self, data: ApplicantCreate, request: Request, applicants: ApplicantService
    ) -> ApplicantOut:
        applicant = await applicants.register(data, today(applicants.settings))
        return (await shown([applicant], request, applicants))[0]

    @get("/")
    async def list_applicants(
        self,
        request: Request,
        applicants: ApplicantService,
        q: str | None = Parameter(
            default=None,
            description="name prefix, full national ID, or the last 4-11 characters of an ID number or a phone",
        ),
        region_code: str | None = None,
        category: str | None = None,
        limit: int = Parameter(default=50, ge=1, le=500),
        offset: Offset = 0,
    ) -> Page[ApplicantOut]:
        rows, total = await applicants.search(
            q=q, region_code=region_code, category=category, limit=limit, offset=offset
        )
        items = await shown(rows, request, applicants)
        return Page[ApplicantOut](items=items, total=total, limit=limit, offset=offset)

    @get("/{applicant_id:uuid}")
    async def get_applicant(
        self, applicant_id: UUID, request: Request, applicants: ApplicantService
    ) -> ApplicantOut:
        return (await shown([await applicants.get(applicant_id)], request, applicants))[0]

    @post("/{applicant_id:uuid}/trainings")
    async def add_training(
        self, applicant_id: UUID, data: TrainingCreate, applicants: ApplicantService
    ) -> TrainingOut:
        return TrainingOut.model_validate(await applicants.add_training(applicant_id, data))

    @get("/{applicant_id:uuid}/trainings")
    async def list_trainings(self, applicant_id: UUID, applicants: ApplicantService) -> list[TrainingOut]:
        return [TrainingOut.model_validate(t) for t in await applicants.trainings(applicant_id)]
