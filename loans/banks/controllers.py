from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from loans.banks.schemas import BankCreate, BankOut
from loans.banks.service import BankService
from loans.core.actor import Actor


class BankController(Controller):
    path = "/api/v1/banks"
    tags = ["reference data"]

    @post("/")
    async def create_bank(self, data: BankCreate, db_session: AsyncSession, actor: Actor) -> BankOut:
        return BankOut.model_validate(await BankService(db_session, actor).create(data))

    @get("/")
    async def list_banks(self, db_session: AsyncSession, actor: Actor) -> list[BankOut]:
        return [BankOut.model_validate(b) for b in await BankService(db_session, actor).list()]

    @get("/{code:str}")
    async def get_bank(self, code: str, db_session: AsyncSession, actor: Actor) -> BankOut:
        return BankOut.model_validate(await BankService(db_session, actor).get(code))
