"""Business dates are in the deployment's timezone (Asia/Shanghai by default), not the server's.

"Today" comes from the settings' clock: the system clock in a deployment, a fixed one where a test or a
rehearsal needs the service to live on a given day (``settings.with_clock(FixedClock(...))``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from loans.settings import Settings


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class FixedClock:
    moment: datetime

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            raise ValueError("a fixed clock needs a timezone-aware moment")

    def now(self) -> datetime:
        return self.moment


def today(settings: Settings) -> date:
    return business_date_of(settings.clock.now(), settings)


def business_date_of(moment: datetime, settings: Settings) -> date:
    """The business date (deployment timezone) of a timestamp."""
    return moment.astimezone(ZoneInfo(settings.timezone)).date()
