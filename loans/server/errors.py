"""One place where exceptions become HTTP answers: domain errors, schema errors, integrity errors."""

from __future__ import annotations

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_422_UNPROCESSABLE_ENTITY

from loans.core.errors import DomainError

log = structlog.get_logger()

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


def _field_name(key: str | None) -> str:
    return key or "body"


def domain_error_handler(_: Request, exc: DomainError) -> Response:
    return Response(exc.to_body(), status_code=exc.status_code, headers=exc.headers)


def validation_error_handler(_: Request, exc: ValidationException) -> Response:
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        message = str(item.get("message", "invalid"))
        if " / " in message:
            message, message_zh = message.split(" / ", 1)
        else:
            message_zh = _zh(message)
        errors.append({"field": _field_name(item.get("key")), "message": message, "message_zh": message_zh})
    if not errors:
        errors.append({"field": "body", "message": exc.detail, "message_zh": "请求体无效"})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    summary_zh = "；".join(f"{e['field']}：{e['message_zh']}" for e in errors)
    body = {"status_code": 422, "detail": summary, "detail_zh": summary_zh, "errors": errors}
    return Response(body, status_code=HTTP_422_UNPROCESSABLE_ENTITY)


def http_error_handler(_: Request, exc: HTTPException) -> Response:
    body = {"status_code": exc.status_code, "detail": exc.detail}
    if isinstance(exc, NotAuthorizedException):
        body["detail_zh"] = "未登录或令牌无效"
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", path=request.url.path, error=str(exc))
    return Response(
        {"status_code": 500, "detail": "internal error", "detail_zh": "服务器内部错误"}, status_code=500
    )


exception_handlers = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
