"""HTML forms in, the API's own schemas out; the services' errors back beside the field they name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from litestar import Request
from litestar.datastructures import FormMultiDict
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.errors import DomainError
from loans.server.errors import bilingual

FORM_WIDE = "_form"
SchemaT = TypeVar("SchemaT", bound=BaseModel)
ResultT = TypeVar("ResultT")


async def form_values(
    request: Request, *, lists: Iterable[str] = (), booleans: Iterable[str] = ()
) -> dict[str, Any]:
    """The posted form as the schema's shape: ``a.b`` names nest, empty fields are left out (so that optional
    fields stay unset), ``lists`` keep every value, ``booleans`` are ticked boxes (absent = False)."""
    form: FormMultiDict = await request.form()
    lists, booleans = set(lists), set(booleans)
    values: dict[str, Any] = {}
    for name in {key for key in form if key != "_csrf_token"} | booleans | lists:
        if name in booleans:
            value: Any = form.get(name) not in (None, "", "off")
        elif name in lists:
            value = [v for v in form.getall(name, []) if v != ""]
        else:
            value = form.get(name)
            if value is None or value.strip() == "":
                continue
        target = values
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return values


def parse(schema: type[SchemaT], values: dict[str, Any]) -> SchemaT:
    return schema.model_validate(values)


def field_errors(exc: Exception) -> dict[str, str]:
    """Chinese messages by form field name; what names no field goes under ``FORM_WIDE``."""
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for item in exc.errors():
            field = ".".join(str(part) for part in item["loc"]) or FORM_WIDE
            errors.setdefault(field, bilingual(item["msg"])[1])
        return errors
    if isinstance(exc, DomainError):
        field = getattr(exc, "field", None) or exc.extra.get("field") or FORM_WIDE
        listed = exc.extra.get("errors")
        if listed:
            return {e["field"]: e["message_zh"] for e in listed}
        return {field: exc.message_zh}
    raise exc


FORM_ERRORS = (ValidationError, DomainError)


async def rollback(session: AsyncSession) -> None:
    """A refused step writes nothing: the form is shown again over a clean transaction."""
    await session.rollback()


def error_status(exc: Exception) -> int:
    """The status the API would answer: the service's own, 422 for a form the schema refuses."""
    return exc.status_code if isinstance(exc, DomainError) else 422


@dataclass(frozen=True, slots=True)
class Refusal:
    """A form step the schema or the service refused: the messages by field, and the status to answer with."""

    errors: dict[str, str]
    status_code: int


async def attempt(session: AsyncSession, step: Callable[[], Awaitable[ResultT]]) -> ResultT | Refusal:
    """Run one form step (parsing included); a refusal rolls back and says what to show beside which field."""
    try:
        return await step()
    except FORM_ERRORS as exc:
        await rollback(session)
        return Refusal(field_errors(exc), error_status(exc))
