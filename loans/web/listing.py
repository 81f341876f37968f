"""Rows for the list pages: an application or a loan (with its balances) beside its applicant as the API shows
her (ID masked as the caller's role requires) and the Chinese names of its regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from loans.applicants.controllers import shown
from loans.applicants.models import Applicant
from loans.applicants.schemas import ApplicantOut
from loans.applicants.service import ApplicantService
from loans.applications.liaison_scope import bank_applicant_ids
from loans.applications.service import ApplicationView
from loans.core.region_codes import RegionLevel
from loans.lending.controllers import loan_out
from loans.lending.models import Loan
from loans.lending.schemas import LoanOut
from loans.lending.service import LoanBalances, balances_for
from loans.regions.models import Region
from loans.web.pages import PageContext


async def region_names(ctx: PageContext) -> dict[str, str]:
    return {r.code: r.name for r in await ctx.regions()}


def applicant_service(ctx: PageContext) -> ApplicantService:
    return ApplicantService(ctx.session, ctx.actor, ctx.settings, bank_applicant_ids)


async def applicants_shown(ctx: PageContext, applicant_ids: Iterable[UUID]) -> dict[UUID, ApplicantOut]:
    """The applicants as the caller may see them (Disclosure decides and logs the full IDs shown)."""
    found = await applicant_service(ctx).by_ids(applicant_ids)
    return {a.id: a for a in await shown_to(ctx, list(found.values()))}


async def shown_to(ctx: PageContext, applicants: list[Applicant]) -> list[ApplicantOut]:
    return await shown(applicants, ctx.request, applicant_service(ctx))


async def local_regions(ctx: PageContext) -> list[Region]:
    """The townships and villages the user may filter a list by."""
    return [r for r in await ctx.regions() if r.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)]


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    view: ApplicationView
    applicant: ApplicantOut | None
    township: str
    village: str


async def application_rows(ctx: PageContext, views: list[ApplicationView]) -> list[ApplicationRow]:
    people = await applicants_shown(ctx, (v.application.applicant_id for v in views))
    names = await region_names(ctx)
    return [
        ApplicationRow(
            view=v,
            applicant=people.get(v.application.applicant_id),
            township=names.get(v.application.township_code, v.application.township_code),
            village=names.get(v.application.village_code, v.application.village_code),
        )
        for v in views
    ]


@dataclass(frozen=True, slots=True)
class LoanRow:
    loan: LoanOut
    applicant: ApplicantOut | None
    township: str
    village: str


async def loan_rows(ctx: PageContext, loans: list[Loan]) -> list[LoanRow]:
    balances = await balances_for(ctx.session, [loan.id for loan in loans])
    people = await applicants_shown(ctx, (loan.applicant_id for loan in loans))
    names = await region_names(ctx)
    return [
        LoanRow(
            loan=loan_out(loan, balances.get(loan.id, LoanBalances())),
            applicant=people.get(loan.applicant_id),
            township=names.get(loan.township_code, loan.township_code),
            village=names.get(loan.village_code, loan.village_code),
        )
        for loan in loans
    ]


def shown_id(applicant: ApplicantOut | None) -> str:
    """Her ID number as the caller may see it (full or masked), for a cell of an export."""
    return (applicant.national_id or applicant.national_id_masked) if applicant else ""


def shown_phone(applicant: ApplicantOut | None) -> str:
    return (applicant.phone or applicant.phone_masked or "") if applicant else ""
