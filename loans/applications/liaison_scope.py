"""What a bank liaison has in hand of the applications, and so of the applicants: her bank's own applications,
and those of her region waiting for any bank's decision. The applicants' search and `Disclosure`
(loans/applicants) are handed `bank_applicant_ids` as their `BankApplicants`."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, or_, select

from loans.applications.models import Application, ApplicationMember
from loans.applications.workflow import Status
from loans.core.actor import Actor


def in_her_banks_hands(actor: Actor) -> ColumnElement[bool]:
    """Applications a liaison's bank has in hand: its own, and those of her region that name no bank yet and
    wait for a bank's decision (a 免担保 loan goes to whichever partner bank decides)."""
    awaiting_any_bank = and_(
        Application.bank_code.is_(None),
        Application.status == Status.COUNTY_RECOMMENDED,
        actor.region_filter(Application),
    )
    return or_(Application.bank_code == actor.bank_code, awaiting_any_bank)


def bank_applicant_ids(actor: Actor) -> Select[tuple[UUID]]:
    """The applicants (partners included) of the applications in the liaison's bank's hands, and so of its
    loans: all a liaison sees of the applicants."""
    return (
        select(ApplicationMember.applicant_id)
        .join(Application, Application.id == ApplicationMember.application_id)
        .where(in_her_banks_hands(actor))
    )
