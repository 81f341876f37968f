"""Input the schemas never see, refused before a handler runs: NUL bytes in the query or path, JSON nested so
deeply its decoder gives up."""

from __future__ import annotations

from typing import Any

from litestar import Request

from loans.core.errors import InvalidInput, MalformedInput


class GuardedRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise MalformedInput(
                "body", "the JSON is nested too deeply to read", "JSON 嵌套层数过多，无法读取"
            ) from None


def refuse_nul_bytes(request: Request) -> None:
    """PostgreSQL text cannot hold a NUL byte; a parameter carrying one answers 422 naming it."""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise _nul_in(name.replace("\x00", "") or "query")
    if "\x00" in request.url.path:
        names = [name for name, value in request.path_params.items() if "\x00" in str(value)]
        raise _nul_in(names[0] if names else "path")


def _nul_in(field: str) -> InvalidInput:
    return InvalidInput(field, "must not contain a NUL byte (%00)", "不能包含空字符（%00）")
