"""Who sees an applicant's full ID number and phone (SPEC section 1; PIPL: sensitive personal information).

Township staff of her township, and the liaisons of a bank she has applied to or borrows from, see them;
everyone else sees the masked number and her age - never the birth date, which is the part the mask hides -
and the masked phone. Every answer that shows a full number is written to the append-only access log.
The API and the web pages both ask `Disclosure`; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from loans.applicants.models import Applicant, IdAccessLog
from loans.applications.models import Application, ApplicationMember
from loans.applications.workflow import Status
from loans.core.actor import Actor
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role


def sees_full_id(actor: Actor, *, township_code: str, at_her_bank: bool) -> bool:
    """The rule: township staff of the applicant's township, or a liaison of a bank the applicant has applied
    to or borrows from (``at_her_bank``)."""
    match actor.role:
        case Role.TOWNSHIP_STAFF:
            return (
                actor.region_code is not None
                and ancestor_code(actor.region_code, RegionLevel.TOWNSHIP) == township_code
            )
        case Role.BANK_LIAISON:
            return at_her_bank
        case _:
            return False


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


def mask_phone(phone: str) -> str:
    """Only the last four digits, and a mobile number's first three: ``139****0001``."""
    positions = [i for i, ch in enumerate(phone) if ch.isdigit()]
    shown = set(positions[-4:]) | (set(positions[:3]) if len(positions) >= 11 else set())
    return "".join("*" if ch.isdigit() and i not in shown else ch for i, ch in enumerate(phone))


_LOG_READS = insert(IdAccessLog.__table__).from_select(
    ["user_id", "username", "role", "applicant_id", "endpoint"],
    select(
        bindparam("user_id", type_=Uuid),
        bindparam("username"),
        bindparam("role"),
        func.unnest(bindparam("applicant_ids", type_=ARRAY(Uuid))),
        bindparam("endpoint"),
    ),
)


@dataclass
class Disclosure:
    session: AsyncSession
    actor: Actor

    async def full_ids_shown(self, applicants: Sequence[Applicant], endpoint: str) -> frozenset[UUID]:
        """The applicants among ``applicants`` whose full ID and phone the caller is shown, logged as read by
        ``endpoint`` (one statement for a page; none when nothing is shown)."""
        at_her_bank: Collection[UUID] = ()
        if self.actor.role == Role.BANK_LIAISON and applicants:
            ids = [a.id for a in applicants]
            at_her_bank = set(
                await self.session.scalars(
                    bank_applicant_ids(self.actor).where(ApplicationMember.applicant_id.in_(ids)).distinct()
                )
            )
        shown = frozenset(
            a.id
            for a in applicants
            if sees_full_id(self.actor, township_code=a.township_code, at_her_bank=a.id in at_her_bank)
        )
        if shown:
            await self.session.execute(
                _LOG_READS,
                {
                    "user_id": self.actor.user_id,
                    "username": self.actor.username,
                    "role": str(self.actor.role),
                    "applicant_ids": sorted(shown),
                    "endpoint": endpoint,
                },
            )
        return shown
