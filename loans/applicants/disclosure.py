"""Who sees an applicant's full ID number and phone (SPEC section 1; PIPL: sensitive personal information).

Township staff of her township, and the liaisons of a bank she has applied to or borrows from, see them;
everyone else sees the masked number and her age - never the birth date, which is the part the mask hides -
and the masked phone. Every answer that shows a full number is written to the append-only access log.
The API and the web pages both ask `Disclosure`; nothing else decides.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from loans.applicants.models import Applicant, IdAccessLog
from loans.core.actor import Actor
from loans.core.region_codes import RegionLevel, ancestor_code
from loans.core.roles import Role

BankApplicants = Callable[[Actor], Select[tuple[UUID]]]
"""The applicants a liaison's bank has in hand (partners included): all a liaison sees of the applicants. The
applications area answers it (loans/applications/liaison_scope.py) and the caller hands it in: applications
depends on applicants, not the other way."""


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
    bank_applicants: BankApplicants

    async def full_ids_shown(self, applicants: Sequence[Applicant], endpoint: str) -> frozenset[UUID]:
        """The applicants among ``applicants`` whose full ID and phone the caller is shown, logged as read by
        ``endpoint`` (one statement for a page; none when nothing is shown)."""
        at_her_bank: Collection[UUID] = ()
        if self.actor.role == Role.BANK_LIAISON and applicants:
            ids = [a.id for a in applicants]
            at_hers = self.bank_applicants(self.actor)
            at_her_bank = set(
                await self.session.scalars(at_hers.where(at_hers.selected_columns[0].in_(ids)).distinct())
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
