"""登录, 退出, 修改密码."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.errors import InvalidInput
from loans.settings import Settings
from loans.users.auth import issue_token
from loans.users.models import User
from loans.users.schemas import PasswordChange, TokenRequest
from loans.users.service import UserService, token_lifetime
from loans.users.throttle import LoginThrottle, client_address_of
from loans.web.forms import FORM_ERRORS, field_errors, form_values, parse, refusal_status, rollback
from loans.web.pages import done, page
from loans.web.session import PUBLIC_OPT, end_session, safe_next, session_user, start_session


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
            users = UserService(db_session, LoginThrottle(request.app.state.redis))
            user = await users.login(credentials.username, credentials.password, client_address_of(request))
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return page(
                "login.html",
                status_code=refusal_status(exc),
                next=target,
                expired=False,
                errors=field_errors(exc),
                username=values.get("username", ""),
            )
        return await _signed_in(request, db_session, settings, user, await done(db_session, target))

    @post("/logout")
    async def sign_out(self, db_session: AsyncSession, actor: Actor) -> Redirect:
        """Ends every token of the user: this browser's session, her other browsers' and her API tokens."""
        await UserService(db_session).log_out(actor)
        return end_session(await done(db_session, "/"))

    @get("/password")
    async def password_page(self, changed: bool = False) -> Template:
        return page("password.html", errors={}, changed=changed)

    @post("/password")
    async def change_password(
        self, request: Request, db_session: AsyncSession, actor: Actor, settings: Settings
    ) -> Template | Redirect:
        """Her own password; every token she holds ends, and this browser carries on with a new one."""
        values = await form_values(request)
        try:
            if values.get("new_password") != values.pop("confirm_password", None):
                raise InvalidInput(
                    "confirm_password", "the two new passwords differ", "两次输入的新密码不一致"
                )
            change = parse(PasswordChange, values)
            users = UserService(db_session, LoginThrottle(request.app.state.redis))
            user = await users.change_password(
                actor, change.old_password, change.new_password, client_address_of(request)
            )
        except FORM_ERRORS as exc:
            await rollback(db_session)
            return page(
                "password.html", status_code=refusal_status(exc), errors=field_errors(exc), changed=False
            )
        return await _signed_in(
            request, db_session, settings, user, await done(db_session, "/password?changed=1")
        )


async def _signed_in(
    request: Request, session: AsyncSession, settings: Settings, user: User, response: Redirect
) -> Redirect:
    """The session cookie of ``user`` (committed first: a password change raises her token version)."""
    lifetime = token_lifetime(settings.token_ttl_minutes)
    token = issue_token(request.app.state.jwt_auth, user, lifetime)
    return start_session(response, request, token, int(lifetime.total_seconds()))
