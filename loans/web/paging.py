"""Pagination and the list pages' query strings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

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
