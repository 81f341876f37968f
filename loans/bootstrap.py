"""First-run setup shared by `loans dev`, `loans users create` and the tests."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.roles import Role
from loans.users.auth import end_tokens_on_commit
from loans.users.models import User
from loans.users.password_policy import check_password_policy
from loans.users.passwords import hash_password, verify_password

ADMIN_USERNAME = "admin"


async def ensure_admin(session: AsyncSession, password: str | None) -> str | None:
    """Create the `admin` user if missing (or reset its password when another one is given, which ends its
    tokens). A given password must pass the password policy (422 naming LOANS_ADMIN_PASSWORD).

    Returns the password to print when one was generated, else None.
    """
    if password is not None:
        check_password_policy(ADMIN_USERNAME, password, field="LOANS_ADMIN_PASSWORD")
    admin = await session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    generated = None
    if admin is None:
        if password is None:
            password = generated = secrets.token_urlsafe(12)
        session.add(
            User(
                username=ADMIN_USERNAME,
                password_hash=hash_password(password),
                role=Role.ADMIN,
                display_name="系统管理员",
            )
        )
    elif password is not None and not verify_password(admin.password_hash, password):
        admin.password_hash = hash_password(password)
        end_tokens_on_commit(session, admin)
    await session.commit()
    return generated
