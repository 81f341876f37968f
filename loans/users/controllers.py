from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, patch, post
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.http import THROTTLED
from loans.core.roles import Role
from loans.settings import Settings
from loans.users.auth import issue_token
from loans.users.models import User
from loans.users.schemas import PasswordChange, TokenRequest, TokenResponse, UserCreate, UserOut, UserUpdate
from loans.users.service import UserService, token_lifetime
from loans.users.throttle import LoginThrottle, client_address_of


def token_response(request: Request, settings: Settings, user: User) -> TokenResponse:
    lifetime = token_lifetime(settings.token_ttl_minutes)
    token = issue_token(request.app.state.jwt_auth, user, lifetime)
    return TokenResponse(access_token=token, expires_in=int(lifetime.total_seconds()))


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/token", status_code=200, responses=THROTTLED)
    async def issue_token(
        self, data: TokenRequest, db_session: AsyncSession, request: Request, settings: Settings
    ) -> TokenResponse:
        """A bearer token; 429 with Retry-After after 5 failed sign-ins of the username or from the address."""
        users = UserService(db_session, LoginThrottle(request.app.state.redis))
        user = await users.login(data.username, data.password, client_address_of(request))
        return token_response(request, settings, user)

    @post("/password", status_code=200, responses=THROTTLED)
    async def change_password(
        self,
        data: PasswordChange,
        db_session: AsyncSession,
        request: Request,
        settings: Settings,
        actor: Actor,
    ) -> TokenResponse:
        """The caller's own password. Every token she holds ends; the answer is a new one."""
        users = UserService(db_session, LoginThrottle(request.app.state.redis))
        user = await users.change_password(
            actor, data.old_password, data.new_password, client_address_of(request)
        )
        return token_response(request, settings, user)

    @post("/logout", status_code=204)
    async def log_out(self, db_session: AsyncSession, actor: Actor) -> None:
        """Ends every token of the caller."""
        await UserService(db_session).log_out(actor)

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

    @patch("/{user_id:uuid}")
    async def update_user(
        self, user_id: UUID, data: UserUpdate, db_session: AsyncSession, actor: Actor
    ) -> UserOut:
        """Role, region, bank, ``active``: a change of any ends the user's tokens at once."""
        actor.require(Role.ADMIN)
        return UserOut.model_validate(await UserService(db_session).update(user_id, data, actor))
