from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.audit.service import record_event
from loans.banks.models import Bank
from loans.core.actor import Actor
from loans.core.errors import Conflict, DomainError, InvalidInput, NotFound
from loans.core.roles import Role
from loans.regions.models import Region
from loans.users.models import User
from loans.users.passwords import hash_password, verify_password
from loans.users.schemas import UserCreate


class InvalidCredentials(DomainError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("invalid username or password", "用户名或密码错误")


@dataclass
class UserService:
    session: AsyncSession

    async def authenticate(self, username: str, password: str) -> User:
        user = await self.session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active or not verify_password(user.password_hash, password):
            raise InvalidCredentials
        return user

    async def create(self, data: UserCreate, actor: Actor | None) -> User:
        await self._check_scope_fields(data)
        if await self.session.scalar(select(func.count()).where(User.username == data.username)):
            raise Conflict(f"username {data.username} is taken", f"用户名 {data.username} 已存在")
        user = User(
            username=data.username,
            password_hash=hash_password(data.password),
            role=data.role,
            region_code=data.region_code,
            bank_code=data.bank_code if data.role == Role.BANK_LIAISON else None,
            display_name=data.display_name,
        )
        self.session.add(user)
        await self.session.flush()
        if actor is not None:
            record_event(
                self.session,
                actor,
                entity_type="user",
                entity_id=user.id,
                action="create_user",
                after={"username": user.username, "role": user.role, "region_code": user.region_code},
            )
        return user

    async def set_password(self, username: str, password: str) -> None:
        user = await self.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound("user", "用户", username)
        user.password_hash = hash_password(password)

    async def get(self, user_id: UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound("user", "用户", user_id)
        return user

    async def _check_scope_fields(self, data: UserCreate) -> None:
        if data.role != Role.ADMIN and data.region_code is None:
            raise InvalidInput("region_code", "required for every role but admin", "除管理员外必须指定区域")
        if data.region_code is not None and await self.session.get(Region, data.region_code) is None:
            raise InvalidInput(
                "region_code", f"unknown region {data.region_code}", f"区域 {data.region_code} 不存在"
            )
        if data.role == Role.BANK_LIAISON:
            if data.bank_code is None:
                raise InvalidInput("bank_code", "required for a bank liaison", "银行信贷员必须指定银行")
            if await self.session.get(Bank, data.bank_code) is None:
                raise InvalidInput(
                    "bank_code", f"unknown bank {data.bank_code}", f"银行 {data.bank_code} 不存在"
                )


def token_lifetime(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
