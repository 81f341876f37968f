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
from litestar.template.config import TemplateConfig

from loans.core.errors import DomainError
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


def _error_page(request: Request, status_code: int, message: str) -> Response:
    name = "_error_fragment.html" if request.headers.get("hx-request") else "error.html"
    return Template(template_name=name, context={"message": message}, status_code=status_code)


def domain_error_page(request: Request, exc: DomainError) -> Response:
    return _error_page(request, exc.status_code, exc.message_zh)


def http_error_page(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, PermissionDeniedException):
        # CSRF: the form was older than the session's token (or forged); a fresh page carries a valid one.
        return _error_page(request, 403, "页面已过期或来源不明，请刷新页面后重新提交")
    if isinstance(exc, NotFoundException):
        return _error_page(request, 404, "未找到该页面或记录")
    if isinstance(exc, ValidationException):
        return _error_page(request, 400, "提交的内容不完整或格式不正确，请返回检查")
    return _error_page(request, exc.status_code, "请求无法处理")


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
        exception_handlers={
            NotAuthorizedException: expired_session_handler,
            DomainError: domain_error_page,
            HTTPException: http_error_page,
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
