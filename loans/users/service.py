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
from loans.users.auth import end_tokens_on_commit
from loans.users.models import User
from loans.users.password_policy import DEMO_PASSWORD, check_password_policy
from loans.users.passwords import hashed_off_loop, verified_off_loop
from loans.users.schemas import UserCreate, UserUpdate
from loans.users.throttle import LoginThrottle


class InvalidCredentials(DomainError):
    status_code = 401

    def __init__(self) -> None:
        super().__init__("invalid username or password", "用户名或密码错误")


@dataclass
class UserService:
    session: AsyncSession
    throttle: LoginThrottle | None = None  # needed by login and change_password

    async def login(self, username: str, password: str, client_address: str) -> User:
        """The user ``username`` names, if ``password`` is hers and she is active; InvalidCredentials otherwise
        (in the same time whether or not the username exists), TooManyAttempts while her username or the
        client's address is locked by failures."""
        if self.throttle is None:
            raise RuntimeError("login needs the sign-in throttle")
        attempt = await self.throttle.begin(username, client_address)
        user = await self.verify_credentials(username, password)
        if user is None:
            raise InvalidCredentials
        await self.throttle.succeeded(attempt)
        return user

    async def verify_credentials(self, username: str, password: str) -> User | None:
        """The active user with this username and password, else None; unthrottled (``login`` throttles)."""
        user = await self.session.scalar(select(User).where(User.username == username))
        verified = await verified_off_loop(user.password_hash if user else None, password)
        return user if verified and user is not None and user.is_active else None

    async def change_password(
        self, actor: Actor, old_password: str, new_password: str, client_address: str
    ) -> User:
        """The caller's own password, the old one checked (and throttled) as at sign-in; ends her tokens."""
        try:
            user = await self.login(actor.username, old_password, client_address)
        except InvalidCredentials as exc:
            raise InvalidInput("old_password", "is not your current password", "原密码不正确") from exc
        check_password_policy(user.username, new_password, field="new_password")
        user.password_hash = await hashed_off_loop(new_password)
        end_tokens_on_commit(self.session, user)
        record_event(self.session, actor, entity_type="user", entity_id=user.id, action="change_password")
        return user

    async def log_out(self, actor: Actor) -> None:
        """Ends every token of the caller (the API's and the web's sessions alike)."""
        user = await self.get(actor.user_id)
        end_tokens_on_commit(self.session, user)
        record_event(self.session, actor, entity_type="user", entity_id=user.id, action="log_out")

    async def create(self, data: UserCreate, actor: Actor | None) -> User:
        check_password_policy(data.username, data.password)
        return await self._insert(data, actor)

    async def create_demo_user(self, data: UserCreate, actor: Actor) -> User:
        """A demo data user: the one account whose password is the published demo password."""
        if data.password != DEMO_PASSWORD:
            raise ValueError("demo users have the demo password; any other goes through create")
        return await self._insert(data, actor)

    async def update(self, user_id: UUID, data: UserUpdate, actor: Actor) -> User:
        """An administrator's change of a user; a change of her role, scope or ``active`` ends her tokens."""
        user = await self.get(user_id)
        given = data.model_fields_set
        role = data.role or Role(user.role)
        region_code = data.region_code if "region_code" in given else user.region_code
        bank_code = data.bank_code if "bank_code" in given else user.bank_code
        bank_code = bank_code if role == Role.BANK_LIAISON else None
        active = user.is_active if data.active is None else data.active
        if user.id == actor.user_id and (role != Role.ADMIN or not active):
            raise Conflict(
                "an administrator may not demote or deactivate herself", "管理员不能降低自己的角色或停用自己"
            )
        await self._check_scope_fields(role, region_code, bank_code)
        before = _described(user)
        user.role, user.region_code, user.bank_code, user.is_active = role, region_code, bank_code, active
        if "display_name" in given:
            user.display_name = data.display_name
        after = _described(user)
        changed = [name for name in after if after[name] != before[name]]
        if set(changed) & _ACCESS:
            end_tokens_on_commit(self.session, user)
        record_event(
            self.session,
            actor,
            entity_type="user",
            entity_id=user.id,
            action="update_user",
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
        )
        await self.session.flush()
        return user

    async def _insert(self, data: UserCreate, actor: Actor | None) -> User:
        await self._check_scope_fields(data.role, data.region_code, data.bank_code)
        if await self.session.scalar(select(func.count()).where(User.username == data.username)):
            raise Conflict(f"username {data.username} is taken", f"用户名 {data.username} 已存在")
        user = User(
            username=data.username,
            password_hash=await hashed_off_loop(data.password),
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

    async def get(self, user_id: UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound("user", "用户", user_id)
        return user

    async def _check_scope_fields(self, role: Role, region_code: str | None, bank_code: str | None) -> None:
        if role != Role.ADMIN and region_code is None:
            raise InvalidInput("region_code", "required for every role but admin", "除管理员外必须指定区域")
        if region_code is not None and await self.session.get(Region, region_code) is None:
            raise InvalidInput("region_code", f"unknown region {region_code}", f"区域 {region_code} 不存在")
        if role == Role.BANK_LIAISON:
            if bank_code is None:
                raise InvalidInput("bank_code", "required for a bank liaison", "银行信贷员必须指定银行")
            if await self.session.get(Bank, bank_code) is None:
                raise InvalidInput("bank_code", f"unknown bank {bank_code}", f"银行 {bank_code} 不存在")


_ACCESS = {"role", "region_code", "bank_code", "active"}  # what a user's tokens carry or depend on


def _described(user: User) -> dict[str, object]:
    return {
        "role": user.role,
        "region_code": user.region_code,
        "bank_code": user.bank_code,
        "active": user.is_active,
        "display_name": user.display_name,
    }


def token_lifetime(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)
