"""The web interface's part of the app: its pages under ``/`` (session cookie, CSRF on every form and htmx
request), its templates and its static files (versioned, served by the app itself, cached long)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware.base import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import (
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.template.config import TemplateConfig
from sqlalchemy.exc import DBAPIError

from loans.core.errors import DomainError
from loans.core.http_errors import (
    RETRY_SOON,
    database_gone,
    log_unexpected,
    undecodable_text,
    validation_errors,
)
from loans.web.account import AccountPages
from loans.web.applicants import ApplicantPages
from loans.web.applications import ApplicationPages
from loans.web.followups import FollowUpPages
from loans.web.imports import ImportPages
from loans.web.loans import LoanPages
from loans.web.pages import page_context
from loans.web.reminders import ReminderPages
from loans.web.reports import ReportPages
from loans.web.session import PUBLIC_OPT, WebSessionMiddleware, expired_session_handler
from loans.web.templating import register_helpers
from loans.web.todo import TodoPages

HERE = Path(__file__).parent
NOT_WEB = ["^/api/", "^/health", "^/schema"]
YEAR = 365 * 24 * 3600


def _error_page(
    request: Request,
    status_code: int,
    message: str,
    *,
    errors: list[dict[str, str]] | None = None,
    back: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The web's own answer to an error: a page in its layout (a fragment for htmx), the API's status kept."""
    name = "_error_fragment.html" if request.headers.get("hx-request") else "error.html"
    context = {"message": message, "errors": errors or [], "back": back}
    return Template(template_name=name, context=context, status_code=status_code, headers=headers)


def _this_page(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def domain_error_page(request: Request, exc: DomainError) -> Response:
    return _error_page(request, exc.status_code, exc.message_zh, headers=exc.headers)


def undecodable_text_page(request: Request, _: UnicodeDecodeError) -> Response:
    return domain_error_page(request, undecodable_text())


def validation_error_page(request: Request, exc: ValidationException) -> Response:
    """A query parameter (or form field) the handler's signature refuses: 422 as in the API, each field named."""
    return _error_page(
        request,
        HTTP_422_UNPROCESSABLE_ENTITY,
        "页面地址或提交的内容有误，请检查后重试：",
        errors=validation_errors(request, exc),
        back=(request.url.path, "重新打开本页（清除查询条件）") if request.method == "GET" else None,
    )


def database_error_page(request: Request, exc: DBAPIError | ConnectionError) -> Response:
    """The database gone or restarting: 503 with Retry-After as in the API, and a page to try again from."""
    if not database_gone(request, exc):
        return unexpected_error_page(request, exc)
    return _error_page(
        request,
        HTTP_503_SERVICE_UNAVAILABLE,
        "数据库暂时不可用（可能正在重启），请稍后重试。",
        back=(_this_page(request), "重试") if request.method == "GET" else None,
        headers=RETRY_SOON,
    )


def unexpected_error_page(request: Request, exc: Exception) -> Response:
    log_unexpected(request, exc)
    return _error_page(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "系统出现错误，请稍后重试；如一再出现，请联系管理员。"
    )


def http_error_page(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, PermissionDeniedException):
        # CSRF: the form was older than the session's token (or forged); a fresh page carries a valid one.
        return _error_page(request, 403, "页面已过期或来源不明，请刷新页面后重新提交")
    if isinstance(exc, NotFoundException):
        return _error_page(request, 404, "未找到该页面或记录")
    return _error_page(request, exc.status_code, "请求无法处理", headers=exc.headers)


def web_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            AccountPages,
            TodoPages,
            ApplicantPages,
            ApplicationPages,
            LoanPages,
            FollowUpPages,
            ReminderPages,
            ImportPages,
            ReportPages,
        ],
        middleware=[DefineMiddleware(WebSessionMiddleware, exclude_from_auth_key=PUBLIC_OPT)],
        dependencies={"ctx": Provide(page_context, sync_to_thread=False)},
        # The API's bearer check stays off the pages; the session middleware checks the same token instead.
        opt={"exclude_from_auth": True},
        # The app's handlers answer JSON. Litestar picks the handler of the error's most specific class across
        # the layers, so each class the app handles has its page here (else the app's ValidationException
        # handler wins over this router's HTTPException one).
        exception_handlers={
            NotAuthorizedException: expired_session_handler,
            DomainError: domain_error_page,
            ValidationException: validation_error_page,
            UnicodeDecodeError: undecodable_text_page,
            HTTPException: http_error_page,
            DBAPIError: database_error_page,
            ConnectionError: database_error_page,
            Exception: unexpected_error_page,
        },
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        cache_control=CacheControlHeader(max_age=YEAR, public=True),
        opt={"exclude_from_auth": True},
        include_in_schema=False,
    )


def web_app_config(secret: str, timezone: str) -> dict[str, Any]:
    """The Litestar arguments the web interface adds to the app."""
    return {
        "template_config": TemplateConfig(
            directory=HERE / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: register_helpers(engine, timezone),
        ),
        "csrf_config": CSRFConfig(
            secret=secret,
            cookie_name="jinguo_csrf",
            cookie_httponly=True,
            header_name="x-csrftoken",
            exclude=NOT_WEB,
        ),
        "compression_config": CompressionConfig(backend="gzip", exclude=NOT_WEB[0]),
    }
