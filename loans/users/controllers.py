from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.security.jwt import JWTAuth
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.roles import Role
from loans.settings import Settings
from loans.users.auth import token_extras
from loans.users.models import User
from loans.users.schemas import TokenRequest, TokenResponse, UserCreate, UserOut
from loans.users.service import UserService, token_lifetime


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/token", status_code=200)
    async def issue_token(
        self, data: TokenRequest, db_session: AsyncSession, request: Request, settings: Settings
    ) -> TokenResponse:
        user = await UserService(db_session).authenticate(data.username, data.password)
        jwt_auth: JWTAuth = request.app.state.jwt_auth
        lifetime = token_lifetime(settings.token_ttl_minutes)
        token = jwt_auth.create_token(
            identifier=str(user.id),
            token_expiration=lifetime,
            token_extras=token_extras(user.username, user.role, user.region_code, user.bank_code),
        )
        return TokenResponse(access_token=token, expires_in=int(lifetime.total_seconds()))

    @get("/me")
    async def me(self, db_session: AsyncSession, actor: Actor) -> UserOut:
        return UserOut.model_validate(await UserService(db_session).get(actor.user_id))


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @post("/")
    async def create_user(self, data: UserCreate, db_session: AsyncSession, actor: Actor) -> UserOut:
        actor.require(Role.ADMIN)
        return UserOut.model_validate(await UserService(db_session).create(data, actor))

    @get("/")
    async def list_users(self, db_session: AsyncSession, actor: Actor) -> list[UserOut]:
        actor.require(Role.ADMIN)
        return [
            UserOut.model_validate(u) for u in await db_session.scalars(select(User).order_by(User.username))
        ]
