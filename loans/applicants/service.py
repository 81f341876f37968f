from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loans.applicants.disclosure import BankApplicants
from loans.applicants.models import Applicant, Training
from loans.applicants.national_id import InvalidNationalId, NationalId, validate_applicant_id
from loans.applicants.schemas import ApplicantCreate, TrainingCreate
from loans.audit.service import record_event
from loans.core.actor import Actor
from loans.core.errors import Conflict, InvalidInput, NotFound
from loans.core.region_codes import RegionLevel, region_path
from loans.core.roles import Role
from loans.regions.service import require_region
from loans.settings import Settings

# Who registers applicants, their trainings and their applications.
REGISTRARS = (Role.TOWNSHIP_STAFF,)


_ID_OR_PHONE_TAIL = re.compile(r"^\d{3,10}[\dX]$")


def applicant_matches(q: str) -> ColumnElement[bool]:
    """The search box: a name's start, a whole ID number, or the last digits of an ID number or a phone. Each is
    an index's prefix (models.py): last digits are the start of the reversed number, digits and X only."""
    q = q.strip().upper()
    # autoescape: a % or _ typed into the search box is a character, not a LIKE wildcard
    conditions = [Applicant.name.startswith(q, autoescape=True), Applicant.national_id == q]
    if _ID_OR_PHONE_TAIL.match(q):
        conditions += [
            func.reverse(Applicant.national_id).startswith(q[::-1]),
            func.reverse(Applicant.phone).startswith(q[::-1]),
        ]
    return or_(*conditions)


@dataclass(frozen=True, slots=True)
class IdCheck:
    national_id: NationalId
    age: int
    registered: bool
    existing: Applicant | None


@dataclass
class ApplicantService:
    session: AsyncSession
    actor: Actor
    settings: Settings
    bank_applicants: BankApplicants

    async def register(self, data: ApplicantCreate, today: date) -> Applicant:
        self.actor.require(*REGISTRARS)
        national_id = self._validated_id(data.national_id, today)
        await require_region(self.session, "village_code", data.village_code, RegionLevel.VILLAGE)
        county, township, village = region_path(data.village_code)
        if not self.actor.covers_region(county, township, village):
            raise InvalidInput("village_code", "the village is outside your area", "该村不在您的辖区内")
        await self._refuse_duplicate(national_id.number)
        applicant = Applicant(
            national_id=national_id.number,
            name=data.name,
            phone=data.phone,
            birth_date=national_id.birth_date,
            county_code=county,
            township_code=township,
            village_code=village,
            categories=sorted({c.value for c in data.categories}),
            created_by=self.actor.user_id,
        )
        try:
            # Added inside the savepoint, so that its rollback also expunges the row; otherwise the
            # lookup below would autoflush the same insert again and fail the whole transaction.
            async with self.session.begin_nested():
                self.session.add(applicant)
                await self.session.flush()
        except IntegrityError:
            await self._refuse_duplicate(national_id.number)
            raise
        record_event(
            self.session,
            self.actor,
            entity_type="applicant",
            entity_id=applicant.id,
            action="register_applicant",
            after={"name": data.name, "village_code": village, "categories": applicant.categories},
        )
        return applicant

    async def _refuse_duplicate(self, number: str) -> None:
        existing = await self.session.scalar(select(Applicant.id).where(Applicant.national_id == number))
        if existing is not None:
            raise Conflict(
                "an applicant with this national ID is already registered",
                "该身份证号的申请人已登记",
                existing_id=str(existing),
            )

    def _in_scope(self) -> list[ColumnElement[bool]]:
        """The caller's region; a bank liaison sees only the applicants of her bank's applications and loans."""
        conditions = [self.actor.region_filter(Applicant)]
        if self.actor.role == Role.BANK_LIAISON:
            conditions.append(Applicant.id.in_(self.bank_applicants(self.actor)))
        return conditions

    def _validated_id(self, raw: str, today: date) -> NationalId:
        try:
            return validate_applicant_id(
                raw,
                today=today,
                min_age=self.settings.applicant_min_age,
                max_age=self.settings.applicant_max_age,
            )
        except InvalidNationalId as exc:
            raise InvalidInput("national_id", exc.message_en, exc.message_zh) from exc

    async def check_national_id(self, raw: str, today: date) -> IdCheck:
        """What registering ``raw`` would meet, before the form is sent: the ID's own checks (422 as register
        raises them) and an applicant already registered with it (her id only when she is in scope)."""
        self.actor.require(*REGISTRARS)
        national_id = self._validated_id(raw, today)
        existing = await self.session.scalar(
            select(Applicant).where(Applicant.national_id == national_id.number)
        )
        in_scope = existing is not None and self.actor.covers_region(
            existing.county_code, existing.township_code, existing.village_code
        )
        return IdCheck(
            national_id=national_id,
            age=national_id.age_on(today),
            registered=existing is not None,
            existing=existing if in_scope else None,
        )

    async def get(self, applicant_id: UUID) -> Applicant:
        applicant = await self.session.scalar(
            select(Applicant).where(Applicant.id == applicant_id, *self._in_scope())
        )
        if applicant is None:
            raise NotFound("applicant", "申请人", applicant_id)
        return applicant

    async def by_ids(self, applicant_ids: Iterable[UUID]) -> dict[UUID, Applicant]:
        """The applicants among ``applicant_ids`` that are in scope, by id (one query)."""
        ids = set(applicant_ids)
        if not ids:
            return {}
        rows = await self.session.scalars(select(Applicant).where(Applicant.id.in_(ids), *self._in_scope()))
        return {a.id: a for a in rows}

    async def search(
        self, *, q: str | None, region_code: str | None, category: str | None, limit: int, offset: int
    ) -> tuple[list[Applicant], int]:
        conditions = self._in_scope()
        if q:
            conditions.append(applicant_matches(q))
        if region_code:
            conditions.append(
                or_(
                    Applicant.county_code == region_code,
                    Applicant.township_code == region_code,
                    Applicant.village_code == region_code,
                )
            )
        if category:
            conditions.append(Applicant.categories.any_() == category)
        total = await self.session.scalar(select(func.count()).select_from(Applicant).where(*conditions))
        rows = await self.session.scalars(
            select(Applicant)
            .where(*conditions)
            .order_by(Applicant.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows), int(total or 0)

    async def add_training(self, applicant_id: UUID, data: TrainingCreate) -> Training:
        self.actor.require(*REGISTRARS)
        await self.get(applicant_id)
        training = Training(applicant_id=applicant_id, **data.model_dump())
        self.session.add(training)
        await self.session.flush()
        record_event(
            self.session,
            self.actor,
            entity_type="applicant",
            entity_id=applicant_id,
            action="record_training",
            after=data.model_dump(mode="json"),
        )
        return training

    async def trainings(self, applicant_id: UUID) -> list[Training]:
        await self.get(applicant_id)
        query = select(Training).where(Training.applicant_id == applicant_id).order_by(Training.started_on)
        return list(await self.session.scalars(query))
