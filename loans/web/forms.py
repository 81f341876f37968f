"""HTML forms in, the API's own schemas out; the services' errors back beside the field they name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from loans.core.errors import DomainError
from loans.core.http_errors import bilingual
from loans.web.pages import PageContext, done

FORM_WIDE = "_form"
SchemaT = TypeVar("SchemaT", bound=BaseModel)


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


def refusal_status(exc: Exception) -> int:
    """The status the API would answer: the service's for its own errors, 422 for a schema's."""
    return exc.status_code if isinstance(exc, DomainError) else 422


@dataclass(frozen=True, slots=True)
class Form:
    """A form as its page shows it: what was typed, the Chinese errors beside its fields, the answer's status and
    the refusal itself (a page may say more of it, e.g. link the applicant already registered)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    status_code: int = 200
    refusal: Exception | None = None

    @classmethod
    def refused(cls, values: dict[str, Any], exc: Exception, status_code: int | None = None) -> Form:
        return cls(values, field_errors(exc), status_code or refusal_status(exc), exc)


BLANK = Form()


async def form_step(
    ctx: PageContext,
    step: Callable[[dict[str, Any]], Awaitable[str]],
    show_again: Callable[[Form], Awaitable[Template]],
    *,
    lists: Iterable[str] = (),
    booleans: Iterable[str] = (),
    refused_status: int | None = None,
) -> Template | Redirect:
    """One form posted: ``step`` runs it on the posted values (the service decides: scope, role, state, rules) and
    names the page to go to; a refusal rolls back and ``show_again`` shows the form with what was typed and the
    errors beside the fields (answered ``refused_status`` if given, else as the API would)."""
    values = await form_values(ctx.request, lists=lists, booleans=booleans)
    try:
        target = await step(values)
    except FORM_ERRORS as exc:
        await rollback(ctx.session)
        return await show_again(Form.refused(values, exc, refused_status))
    return await done(ctx.session, target)
