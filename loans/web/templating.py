"""The templates' helpers: Chinese labels, options for selects, versioned static URLs, local times."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar.plugins.jinja import JinjaTemplateEngine

from loans.applicants.service import REGISTRARS
from loans.applications.workflow import allowed_actions
from loans.core.actor import Actor
from loans.core.http_errors import bilingual
from loans.core.region_codes import RegionLevel
from loans.money import fen_to_str
from loans.web.labels import label
from loans.web.navigation import current_item, menu_for

STATIC = Path(__file__).parent / "static"


@cache
def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: cached for a year, and a changed file is a new URL."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def signed_in(request: Any) -> Actor | None:
    """The signed-in user of a page, or None on the public ones (the sign-in page, an error before sign-in)."""
    return request.scope.get("user")


def can_register(actor: Actor) -> bool:
    return actor.role in REGISTRARS


def zip_labels(values: Iterable[str], kind: str) -> list[tuple[str, str]]:
    return [(v, label(kind, v)) for v in values]


def region_options(regions: Iterable[Any]) -> list[tuple[str, str]]:
    """Villages indented under their township."""
    return [(r.code, ("　" if r.level == RegionLevel.VILLAGE else "") + r.name) for r in regions]


def applicant_options(applicants: Iterable[Any]) -> list[tuple[str, str]]:
    return [(str(a.id), f"{a.name}（身份证后四位 {a.national_id[-4:]}）") for a in applicants]


def product_options(products: Iterable[Any]) -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in products]


def fund_options(funds: Iterable[Any]) -> list[tuple[str, str]]:
    return [(str(f.id), f.name) for f in funds]


def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested form value dict back to the form's dotted names."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def register_helpers(engine: JinjaTemplateEngine, timezone: str) -> None:
    zone = ZoneInfo(timezone)

    def local_time(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    engine.engine.globals.update(
        label=label,
        menu_for=menu_for,
        current_item=current_item,
        yuan=fen_to_str,
        static_url=static_url,
        allowed_actions=allowed_actions,
        can_register=can_register,
        signed_in=signed_in,
    )
    engine.engine.filters.update(
        zip_labels=zip_labels,
        zip_label=lambda value, kind: label(kind, value),
        region_options=region_options,
        applicant_options=applicant_options,
        product_options=product_options,
        fund_options=fund_options,
        flat=flat,
        zh_part=lambda message: bilingual(message)[1],
        local_time=local_time,
    )
