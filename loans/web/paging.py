"""Pagination and the list pages' query strings."""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Protocol, TypeVar
from urllib.parse import urlencode

from litestar.params import QueryParameter

from loans.core.errors import InvalidInput

PER_PAGE = 20
EXPORT_LIMIT = 10_000

# A list page's ``page`` query parameter (a handler's ``page_no: PageNo = 1``).
PageNo = Annotated[int, QueryParameter(name="page", ge=1)]

Row = TypeVar("Row", covariant=True)


class Search(Protocol[Row]):
    """A list's search: the rows from ``offset`` on (at most ``limit``) and how many there are in all."""

    def __call__(self, *, limit: int, offset: int) -> Awaitable[tuple[list[Row], int]]: ...


@dataclass(frozen=True, slots=True)
class Pager:
    total: int
    page: int
    filters: dict[str, str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    def href(self, page: int) -> str:
        return "?" + urlencode({**self.filters, "page": page})

    @property
    def export_query(self) -> str:
        return urlencode(self.filters)


async def one_page(
    search: Search[Row], page: int, filters: Mapping[str, str | None]
) -> tuple[list[Row], Pager]:
    """Page ``page`` of a list (``filters``: its query as typed, kept in the pages' links) and its pager."""
    page = max(1, page)
    rows, total = await search(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    kept = {k: v for k, v in filters.items() if v}
    return rows, Pager(total=total, page=page, filters=kept)


def query_date(field: str, text: str | None) -> date | None:
    """A list's date filter: an empty field is no filter (a search bar sends every field); what is not a date is
    refused naming the field (422, as the API)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "must be a date YYYY-MM-DD", "日期格式应为 YYYY-MM-DD") from None


def query_choice(field: str, text: str | None, choices: Collection[str]) -> str | None:
    """A list's select filter: empty is no filter, a value it does not offer refused naming the field."""
    if not text:
        return None
    if text not in choices:
        raise InvalidInput(field, f"must be one of {', '.join(choices)}", "不是可选的值")
    return text
