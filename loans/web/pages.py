"""What every page handler shares: the template response, the redirect after a successful form."""

from __future__ import annotations

from typing import Any

from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession


def page(template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status_code)


async def done(session: AsyncSession, target: str) -> Redirect:
    """Commit the step, then send the browser to ``target`` (POST → redirect → GET: a reload posts nothing)."""
    await session.commit()
    return Redirect(target, status_code=303)
