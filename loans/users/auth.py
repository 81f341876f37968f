"""Bearer tokens (JWT). The token carries the caller's role and scope, so a request needs no user lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Self
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import JWTAuth, Token

from loans.core.actor import Actor
from loans.core.roles import Role

PUBLIC_PATHS = ["/api/v1/auth/token", "/health", "/schema", "^/$"]


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
    )


def token_extras(username: str, role: str, region_code: str | None, bank_code: str | None) -> dict[str, Any]:
    return {"username": username, "role": role, "region_code": region_code, "bank_code": bank_code}
