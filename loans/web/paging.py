"""Pagination and the list pages' query strings."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from loans.core.errors import InvalidInput

PER_PAGE = 20
EXPORT_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Pager:
    total: int
    page: int
    filters: dict[str, str]

    @property
    def offset(self) -> int:
        return (self.page - 1) * PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    def href(self, page: int) -> str:
        return "?" + urlencode({**self.filters, "page": page})

    @property
    def export_query(self) -> str:
        return urlencode(self.filters)


def pager(total: int, page: int, filters: dict[str, str | None]) -> Pager:
    kept = {k: v for k, v in filters.items() if v}
    return Pager(total=total, page=max(1, page), filters=kept)


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
