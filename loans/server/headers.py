"""Security headers on every answer, errors and unknown paths included: one hook on everything sent."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

# Everything from this origin only; no framing, no plugins, forms post here. Images may also be data: URIs
# (Swagger UI's icons are, in its stylesheet). Swagger UI is served from this origin too (loans/server/swagger).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # The Referer goes to this origin only: the pages read it to bring a plain form posted after the session
    # expired back to its page (loans/web/session.py); no other site sees a path (it may hold a searched ID).
    "referrer-policy": "same-origin",
}
# Answers under the API may hold personal data (ID numbers, phones, debts): never kept by a browser or proxy.
PERSONAL_DATA_PREFIX = "/api/"


async def security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HEADERS.items():
        headers[name] = value
    if scope["path"].startswith(PERSONAL_DATA_PREFIX) or "cache-control" not in headers:
        headers["cache-control"] = "no-store"
