"""Password hashes (argon2). Hashing and verifying take a tenth of a second of CPU by design: the services run
them in a worker thread (argon2 releases the GIL), so that a sign-in does not stop the API's event loop."""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hashed_off_loop(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verified_off_loop(password_hash: str | None, password: str) -> bool:
    """``password_hash`` None (no such user) spends the time of a real verification and fails: a sign-in for an
    unknown username takes as long as one with a wrong password, so the time does not tell which usernames exist.
    """
    return await asyncio.to_thread(verify_password, password_hash or _dummy_hash(), password) and bool(
        password_hash
    )


@cache
def _dummy_hash() -> str:
    """Made at first use, with the parameters every other hash has."""
    return hash_password(secrets.token_urlsafe(16))
