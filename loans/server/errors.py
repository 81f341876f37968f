"""One place where exceptions become HTTP answers: domain errors, schema errors, integrity errors."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError

from loans.core.errors import DomainError, MalformedInput

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


_ZH_BY_STATUS = {
    400: "请求格式错误",
    401: "未登录或令牌无效",
    403: "无权执行此操作",
    404: "未找到",
    405: "不支持该请求方法",
    409: "与当前状态冲突",
    413: "请求内容过大",
    415: "不支持的内容类型",
    429: "请求过于频繁，请稍后再试",
}


class FieldError(BaseModel):
    field: str
    message: str
    message_zh: str


class ErrorBody(BaseModel):
    """Every error answer: its status, what went wrong in English and Chinese, and for bad input the fields.
    A 409 may add what it is about (``state``, ``existing_id``)."""

    status_code: int
    detail: str
    detail_zh: str
    errors: list[FieldError] | None = None


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


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    return Response(exc.to_body(), status_code=exc.status_code, headers=exc.headers)


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


def validation_error_handler(request: Request, exc: ValidationException) -> Response:
    errors = validation_errors(request, exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    summary_zh = "；".join(f"{e['field']}：{e['message_zh']}" for e in errors)
    body = {"status_code": 422, "detail": summary, "detail_zh": summary_zh, "errors": errors}
    return Response(body, status_code=HTTP_422_UNPROCESSABLE_ENTITY)


def http_error_handler(_: Request, exc: HTTPException) -> Response:
    body = {
        "status_code": exc.status_code,
        "detail": exc.detail or HTTPStatus(exc.status_code).phrase,
        "detail_zh": _ZH_BY_STATUS.get(exc.status_code, "请求无法处理"),
    }
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def undecodable_text() -> MalformedInput:
    """A text part of a request (a form field, a header) that is not UTF-8: the decoder's error reached no handler."""
    return MalformedInput("body", "a text part is not UTF-8", "请求中的文本不是 UTF-8 编码")


def undecodable_text_handler(request: Request, _: UnicodeDecodeError) -> Response:
    return domain_error_handler(request, undecodable_text())


def database_gone(request: Request, exc: DBAPIError | ConnectionError) -> bool:
    """Whether the database is gone or just restarted (logged), rather than a statement failing. SQLAlchemy has
    already dropped the pool's dead connections, so the next request opens fresh ones (cheaper than pinging
    before every checkout)."""
    if isinstance(exc, DBAPIError) and not exc.connection_invalidated:
        return False
    log.warning("database unavailable", path=request.url.path, error=str(exc))
    return True


def database_error_handler(request: Request, exc: DBAPIError | ConnectionError) -> Response:
    """The database gone or just restarted: 503 with Retry-After."""
    if not database_gone(request, exc):
        return unexpected_error_handler(request, exc)
    body = {
        "status_code": 503,
        "detail": "the database is unavailable or restarting; try again in a moment",
        "detail_zh": "数据库暂时不可用（可能正在重启），请稍后重试",
    }
    return Response(body, status_code=503, headers=RETRY_SOON)


def log_unexpected(request: Request, exc: Exception) -> None:
    log.exception("unhandled error", path=request.url.path, error=str(exc))


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log_unexpected(request, exc)
    return Response(
        {"status_code": 500, "detail": "internal error", "detail_zh": "服务器内部错误"}, status_code=500
    )


exception_handlers = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    UnicodeDecodeError: undecodable_text_handler,
    DBAPIError: database_error_handler,
    ConnectionError: database_error_handler,
    Exception: unexpected_error_handler,
}
