"""Business dates are in the deployment's timezone (Asia/Shanghai by default), not the server's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from loans.settings import Settings


def today(settings: Settings) -> date:
    return datetime.now(ZoneInfo(settings.timezone)).date()


def business_date_of(moment: datetime, settings: Settings) -> date:
    """The business date (deployment timezone) of a timestamp."""
    return moment.astimezone(ZoneInfo(settings.timezone)).date()
