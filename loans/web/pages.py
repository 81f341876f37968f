"""What every page handler shares: its context (the request, its transaction, who asks, the settings, the regions
she sees), the template response, the redirect after a successful form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import Request
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.actor import Actor
from loans.core.clock import today
from loans.regions.models import Region
from loans.regions.service import RegionService
from loans.settings import Settings


@dataclass(slots=True)
class PageContext:
    request: Request
    session: AsyncSession
    actor: Actor
    settings: Settings
    _regions: list[Region] | None = field(default=None, init=False)

    @property
    def today(self) -> date:
        return today(self.settings)

    async def regions(self) -> list[Region]:
        """The regions the user may see, read once per request: a list's rows name them, its search bar offers them."""
        if self._regions is None:
            self._regions = await RegionService(self.session, self.actor).list(None, None)
        return self._regions


def page_context(request: Request, db_session: AsyncSession, actor: Actor, settings: Settings) -> PageContext:
    """The pages' ``ctx`` dependency."""
    return PageContext(request, db_session, actor, settings)


def page(template: str, *, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status_code)


async def done(session: AsyncSession, target: str) -> Redirect:
    """Commit the step, then send the browser to ``target`` (POST → redirect → GET: a reload posts nothing)."""
    await session.commit()
    return Redirect(target, status_code=303)
