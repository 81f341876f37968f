"""登录, 退出, 修改密码."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect, Template
from pydantic import Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.errors import InvalidInput
from loans.core.schemas import Schema
from loans.settings import Settings
from loans.users.auth import create_user_token
from loans.users.schemas import TokenRequest
from loans.users.service import UserService, token_lifetime
from loans.web.forms import FORM_ERRORS, field_errors, form_values, parse, rollback
from loans.web.pages import done, page
from loans.web.session import PUBLIC_OPT, end_session, safe_next, session_user, start_session


class PasswordChange(Schema):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=8, max_length=200)
    confirm_password: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _confirmed(self) -> PasswordChange:
        if self.new_password != self.confirm_password:
            raise ValueError("the two new passwords differ / 两次输入的新密码不一致")
        return self


class AccountPages(Controller):
    include_in_schema = False

    @get("/", opt={PUBLIC_OPT: True})
    async def sign_in_page(
        self, request: Request, next: str | None = None, expired: bool = False
    ) -> Template | Redirect:
        try:
            await session_user(request)
        except NotAuthorizedException:
            return page("login.html", next=safe_next(next), expired=expired, errors={}, username="")
        return Redirect(safe_next(next), status_code=303)

    @post("/login", opt={PUBLIC_OPT: True})
    async def sign_in(
        self, request: Request, db_session: AsyncSession, settings: Settings
    ) -> Template | Redirect:
        values = await form_values(request)
        target = safe_next(values.pop("next", None))
        try:
            credentials = parse(TokenRequest, values)
            user = await UserService(db_session).authenticate(credentials.username, credentials.password)
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return page(
                "login.html",
                status_code=401,
                next=target,
                expired=False,
                errors=field_errors(exc),
                username=values.get("username", ""),
            )
        lifetime = token_lifetime(settings.token_ttl_minutes)
        token = create_user_token(request.app.state.jwt_auth, user, lifetime)
        response = await done(db_session, target)
        return start_session(response, request, token, int(lifetime.total_seconds()))

    @post("/logout")
    async def sign_out(self) -> Redirect:
        return end_session(Redirect("/", status_code=303))

    @get("/password")
    async def password_page(self) -> Template:
        return page("password.html", errors={}, changed=False)

    @post("/password")
    async def change_password(
        self, request: Request, db_session: AsyncSession, actor: Actor
    ) -> Template | Redirect:
        users = UserService(db_session)
        try:
            change = parse(PasswordChange, await form_values(request))
            try:
                await users.authenticate(actor.username, change.current_password)
            except FORM_ERRORS as exc:
                raise InvalidInput(
                    "current_password", "the current password is wrong", "当前密码不正确"
                ) from exc
            await users.set_password(actor.username, change.new_password)
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return page("password.html", status_code=422, errors=field_errors(exc), changed=False)
        await db_session.commit()
        return page("password.html", errors={}, changed=True)
