"""The browser's session: the API's own signed token in an HttpOnly cookie, checked by the same function as a
bearer token (``users.auth.authenticate``), so that expiry, revocation and scope hold in the pages as in the
API. An expired or revoked session goes to the sign-in page and comes back to where it was."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect

from loans.users.auth import authenticate

SESSION_COOKIE = "jinguo_session"
PUBLIC_OPT = "web_public"
HOME = "/todo"


async def session_user(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthorizedException("no session")
    return AuthenticationResult(user=await authenticate(token, connection), auth=token)


class WebSessionMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        return await session_user(connection)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def start_session(response: Response, request: Request, token: str, lifetime_seconds: int) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=lifetime_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    return response


def end_session(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def safe_next(target: str | None) -> str:
    """A local path to return to; anything else (another host, ``//host``) goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    return target


def _return_path(request: Request) -> str:
    """Where the user was: the page itself for a GET, the page the form or fragment was on otherwise."""
    if request.method == "GET" and not request.headers.get("hx-request"):
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    origin = request.headers.get("hx-current-url") or request.headers.get("referer") or ""
    parts = urlsplit(origin)
    if parts.netloc and parts.netloc != request.url.netloc:
        return HOME
    return (parts.path or HOME) + (f"?{parts.query}" if parts.query else "")


def sign_in_url(request: Request) -> str:
    return f"/?next={quote(safe_next(_return_path(request)), safe='/')}&expired=1"


def expired_session_handler(request: Request, _: NotAuthorizedException) -> Response:
    """A full page is redirected to the sign-in page; an htmx request is told to go there (a 302 would put the
    sign-in page inside the fragment)."""
    target = sign_in_url(request)
    if request.headers.get("hx-request"):
        return end_session(Response(content="", status_code=200, headers={"HX-Redirect": target}))
    return end_session(Redirect(target, status_code=303))
