"""How a failed request is read, the same for the API's JSON answers (loans/server/errors.py) and the web's
pages (loans/web/router.py): a schema's refusal by field in English and Chinese, text that is not UTF-8, the
database gone, the unexpected logged."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request
from litestar.exceptions import ValidationException
from sqlalchemy.exc import DBAPIError

from loans.core.errors import MalformedInput

log = structlog.get_logger()
RETRY_SOON = {"Retry-After": "1"}

_ZH_BY_EN_START = (
    ("Field required", "缺少必填字段"),
    ("Extra inputs are not permitted", "不允许的额外字段"),
    ("Input should be", "取值无效"),
    ("String should match pattern", "格式不正确"),
    ("String should have at least", "长度不足"),
    ("String should have at most", "长度超出限制"),
    ("Value error", "取值无效"),
    ("Decimal input should be", "须为十进制数"),
    ("Input should be a valid date", "须为 YYYY-MM-DD 日期"),
)


def _zh(message: str) -> str:
    for english, chinese in _ZH_BY_EN_START:
        if message.startswith(english):
            return chinese
    return "输入无效"


def bilingual(message: str) -> tuple[str, str]:
    """A validator's message as (English, Chinese): its own "english / 中文" pair, or a translation."""
    message = message.removeprefix("Value error, ")
    if " / " in message:
        english, chinese = message.split(" / ", 1)
        return english, chinese
    return message, _zh(message)


def _field_name(request: Request, item: dict[str, Any]) -> str:
    """The field as the caller sent it: Litestar names an aliased parameter (``QueryParameter(name="from")``) by
    the handler's own name for it (``date_from``)."""
    key = item.get("key")
    if not key:
        return "body"
    handler = request.scope.get("route_handler")
    if item.get("source") == "body" or handler is None:
        return key
    parameter = handler.parsed_fn_signature.parameters.get(key)
    return (getattr(parameter.kwarg_definition, "name", None) if parameter else None) or key


def validation_errors(request: Request, exc: ValidationException) -> list[dict[str, str]]:
    """A schema's refusal by field: ``[{field, message, message_zh}]`` (the API's ``errors``, a page's list)."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message, message_zh = bilingual(str(item.get("message", "invalid")))
        field = _field_name(request, item)
        errors.append({"field": field, "message": message, "message_zh": message_zh})
    if not errors:
        errors.append({"field": "body", "message": exc.detail, "message_zh": "请求体无效"})
    return errors


def undecodable_text() -> MalformedInput:
    """A text part of a request (a form field, a header) that is not UTF-8: the decoder's error reached no handler."""
    return MalformedInput("body", "a text part is not UTF-8", "请求中的文本不是 UTF-8 编码")


def database_gone(request: Request, exc: DBAPIError | ConnectionError) -> bool:
    """Whether the database is gone or just restarted (logged), rather than a statement failing. SQLAlchemy has
    already dropped the pool's dead connections, so the next request opens fresh ones (cheaper than pinging
    before every checkout)."""
    if isinstance(exc, DBAPIError) and not exc.connection_invalidated:
        return False
    log.warning("database unavailable", path=request.url.path, error=str(exc))
    return True


def log_unexpected(request: Request, exc: Exception) -> None:
    log.exception("unhandled error", path=request.url.path, error=str(exc))
