"""Bearer tokens (JWT). The token carries the caller's role and scope, so a request needs no user lookup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
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


def build_jwt_auth(secret: str, ttl: timedelta) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=actor_from_token,
        token_secret=secret,
        default_token_expiration=ttl,
        exclude=PUBLIC_PATHS,
    )


def token_extras(username: str, role: str, region_code: str | None, bank_code: str | None) -> dict[str, Any]:
    return {"username": username, "role": role, "region_code": region_code, "bank_code": bank_code}
