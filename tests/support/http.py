"""Asserting the API's answers, and clients of an app served in the test's own event loop."""

from __future__ import annotations

import re
from typing import Any

import httpx
from litestar import Litestar

API = "/api/v1"
CJK = re.compile(r"[\u4e00-\u9fff]")


def expect(response: httpx.Response, status: int) -> Any:
    """The decoded body of a response that has ``status``."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    return response.json()


def expect_invalid(response: httpx.Response, field: str) -> dict:
    """422 naming ``field`` with a reason in English and in Chinese."""
    body = expect(response, 422)
    errors = {e["field"]: e for e in body["errors"]}
    assert field in errors, f"422 does not name {field}: {body}"
    error = errors[field]
    assert error["message"].strip()
    assert CJK.search(error["message_zh"]), error
    assert CJK.search(body["detail_zh"]), body
    return body


def expect_conflict(response: httpx.Response, *, state: str | None = None, **fields: str) -> dict:
    """409 with English and Chinese messages; ``state`` names the current state when given."""
    body = expect(response, 409)
    assert body["detail"].strip()
    assert CJK.search(body["detail_zh"]), body
    if state is not None:
        assert body.get("state") == state, body
    for key, value in fields.items():
        assert body.get(key) == value, body
    return body


def client_of(app: Litestar, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of an app served in the test's loop (the ``served_app`` fixture), its requests from ``address``."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 50000)), base_url="http://testserver"
    )
