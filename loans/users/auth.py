"""Signed tokens (JWT) and the one check every request passes, API bearer token and web session cookie alike.

A token carries its user's role, scope and token version, so a request reads no user row: only the version,
which changes when the user is deactivated, changes password, role or scope, or logs out, and which each
process remembers for at most ``STANDING_TTL`` seconds. A change made through a process is seen by that process
at once; by the others within ``STANDING_TTL``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Self
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loans.core.actor import Actor
from loans.core.roles import Role
from loans.users.models import User

PUBLIC_PATHS = ["/api/v1/auth/token", "/health", "/schema", "^/$"]
STANDING_TTL = 1.0
_VERSION_CLAIM = "ver"


async def authenticate(encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The caller ``encoded_token`` stands for, or NotAuthorizedException: a bad signature, an expired token, a
    token of a deactivated user or of a version her access has moved past (deactivation, password, role or
    scope change, logout)."""
    state = connection.app.state
    jwt_auth: JWTAuth[Actor, Token] = state.jwt_auth
    token = RememberedToken.decode(encoded_token, jwt_auth.token_secret, jwt_auth.algorithm)
    actor = await actor_from_token(token, connection)
    if actor is None:
        raise NotAuthorizedException("Invalid token")
    standing = await state.token_standings.of(actor.user_id)
    if standing is None or not standing.active or standing.token_version != token.extras.get(_VERSION_CLAIM):
        raise NotAuthorizedException("Token no longer valid: signed out, or access changed")
    return actor


def issue_token(jwt_auth: JWTAuth[Actor, Token], user: User, lifetime: timedelta) -> str:
    return jwt_auth.create_token(
        identifier=str(user.id),
        token_expiration=lifetime,
        token_extras=token_extras(
            user.username, user.role, user.region_code, user.bank_code, user.token_version
        ),
    )


def token_extras(
    username: str, role: str, region_code: str | None, bank_code: str | None, token_version: int
) -> dict[str, Any]:
    return {
        "username": username,
        "role": role,
        "region_code": region_code,
        "bank_code": bank_code,
        _VERSION_CLAIM: token_version,
    }


async def actor_from_token(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    extras = token.extras
    try:
        return Actor(
            user_id=UUID(token.sub),
            username=extras["username"],
            role=Role(extras["role"]),
            region_code=extras.get("region_code"),
            bank_code=extras.get("bank_code"),
        )
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Standing:
    token_version: int
    active: bool
    read_at: float


# For the whole process, every app in it alike: user ids (UUIDv7) do not repeat across databases either.
_remembered: dict[UUID, Standing] = {}


class TokenStandings:
    """Each user's token version and whether she is active, as PostgreSQL holds them, remembered by this process
    for ``ttl`` seconds: a request costs a dictionary lookup, a user's first request in a while one indexed read.
    """

    def __init__(self, engine: Callable[[], AsyncEngine], ttl: float = STANDING_TTL) -> None:
        self._engine = engine
        self._ttl = ttl

    async def of(self, user_id: UUID) -> Standing | None:
        standing = _remembered.get(user_id)
        now = time.monotonic()
        if standing is not None and now - standing.read_at < self._ttl:
            return standing
        async with self._engine().connect() as connection:
            row = (
                await connection.execute(select(User.token_version, User.is_active).where(User.id == user_id))
            ).first()
        if row is None:
            _remembered.pop(user_id, None)
            return None
        standing = _remembered[user_id] = Standing(row.token_version, row.is_active, now)
        return standing


def end_tokens_on_commit(session: AsyncSession, user: User) -> None:
    """Raise ``user``'s token version, ending every token she holds once ``session`` commits; this process then
    forgets her standing at once, so that her next request here reads the new version."""
    user.token_version += 1
    event.listen(session.sync_session, "after_commit", lambda _: _remembered.pop(user.id, None), once=True)


class TokenAuthenticationMiddleware(JWTAuthenticationMiddleware):
    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        return AuthenticationResult(user=await authenticate(encoded_token, connection), auth=encoded_token)


class RememberedToken(Token):
    """A token whose signature was verified once is answered from memory afterwards, its expiry checked at
    every request: verifying the signature was a tenth of an authenticated request's CPU in the API.

    The verification settings are the app's one ``JWTAuth``'s, the same for every call."""

    @classmethod
    def decode(cls, encoded_token: str, secret: str, algorithm: str, **checks: Any) -> Self:
        token = cls._verified(encoded_token, secret, algorithm, tuple(checks.items()))
        if token.exp <= datetime.now(UTC):
            raise NotAuthorizedException("Invalid token")
        return token

    @classmethod
    @lru_cache(maxsize=4096)
    def _verified(
        cls, encoded_token: str, secret: str, algorithm: str, checks: tuple[tuple[str, Any], ...]
    ) -> Self:
        return super().decode(encoded_token, secret, algorithm, **dict(checks))


def build_jwt_auth(secret: str, ttl: timedelta) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=actor_from_token,
        token_cls=RememberedToken,
        token_secret=secret,
        default_token_expiration=ttl,
        exclude=PUBLIC_PATHS,
        authentication_middleware_class=TokenAuthenticationMiddleware,
    )
