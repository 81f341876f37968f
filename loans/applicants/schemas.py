from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field, model_validator

from loans.applicants.disclosure import mask_phone
from loans.applicants.national_id import mask_national_id
from loans.core.schemas import OutSchema, RegionCode, Schema


class Category(StrEnum):
    RURAL = "rural"
    LAID_OFF = "laid_off"
    RETURNING_MIGRANT = "returning_migrant"
    GRADUATE = "graduate"
    REGISTERED_POOR = "registered_poor"
    DISABLED = "disabled"
    VETERAN_FAMILY = "veteran_family"


class Course(StrEnum):
    SYB = "syb"
    IYB = "iyb"
    ECOMMERCE = "ecommerce"
    SKILLS = "skills"
    OTHER = "other"


class ApplicantCreate(Schema):
    national_id: str = Field(min_length=1, max_length=30)
    name: str = Field(min_length=1, max_length=60)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9\- ]{7,20}$")
    village_code: RegionCode
    categories: list[Category] = Field(default_factory=list)


class ApplicantOut(OutSchema):
    id: UUID
    national_id_masked: str
    national_id: str | None = Field(
        default=None, description="Only for township staff of her township and liaisons of her banks"
    )
    name: str
    phone_masked: str | None
    phone: str | None = Field(default=None, description="Only where the full ID is shown")
    birth_date: date | None = Field(
        default=None, description="Only where the full ID is shown (the mask hides it)"
    )
    age: int
    county_code: str
    township_code: str
    village_code: str
    categories: list[str]
    created_at: datetime

    @classmethod
    def of(cls, applicant, *, today: date, full_id: bool) -> ApplicantOut:
        """The applicant as the caller may see her: ``full_id`` from `Disclosure.full_ids_shown`."""
        birth = applicant.birth_date
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
        phone = applicant.phone
        return cls(
            id=applicant.id,
            national_id_masked=mask_national_id(applicant.national_id),
            national_id=applicant.national_id if full_id else None,
            name=applicant.name,
            phone_masked=None if phone is None else mask_phone(phone),
            phone=phone if full_id else None,
            birth_date=birth if full_id else None,
            age=age,
            county_code=applicant.county_code,
            township_code=applicant.township_code,
            village_code=applicant.village_code,
            categories=applicant.categories,
            created_at=applicant.created_at,
        )


class TrainingCreate(Schema):
    course: Course
    title: str = Field(min_length=1, max_length=200)
    provider: str = Field(min_length=1, max_length=200)
    started_on: date
    finished_on: date
    certificate_no: str | None = Field(default=None, max_length=60)

    @model_validator(mode="after")
    def _dates_in_order(self) -> TrainingCreate:
        if self.finished_on < self.started_on:
            raise ValueError("finished_on is before started_on / 结业日期早于开班日期")
        return self


class TrainingOut(OutSchema):
    id: UUID
    applicant_id: UUID
    course: str
    title: str
    provider: str
    started_on: date
    finished_on: date
    certificate_no: str | None
