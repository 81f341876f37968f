"""One place where exceptions become HTTP answers: domain errors, schema errors, integrity errors."""

from __future__ import annotations

from http import HTTPStatus

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY
from sqlalchemy.exc import DBAPIError

from loans.core.errors import DomainError
from loans.core.http_errors import (
    RETRY_SOON,
    database_gone,
    log_unexpected,
    undecodable_text,
    validation_errors,
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


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    return Response(exc.to_body(), status_code=exc.status_code, headers=exc.headers)


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


def undecodable_text_handler(request: Request, _: UnicodeDecodeError) -> Response:
    return domain_error_handler(request, undecodable_text())


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
