"""Typed domain errors. Services raise these; one exception handler turns them into HTTP answers.

Every message travels in English and Chinese, as the SPEC asks of 409/422 answers.
"""

from __future__ import annotations

from typing import Any


class BilingualValueError(ValueError):
    """A value that fails a check, explained in English and Chinese (raised by pure validators and parsers)."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(f"{message_en} / {message_zh}")
        self.message_en = message_en
        self.message_zh = message_zh


class DomainError(Exception):
    status_code: int = 400
    headers: dict[str, str] | None = None  # e.g. Retry-After

    def __init__(self, message_en: str, message_zh: str, **extra: Any) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh
        self.extra = extra

    def to_body(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "detail": self.message_en,
            "detail_zh": self.message_zh,
            **self.extra,
        }


class NotFound(DomainError):
    """Missing, or outside the caller's scope: both answer 404 so existence never leaks."""

    status_code = 404

    def __init__(self, what: str, what_zh: str, key: object) -> None:
        super().__init__(f"{what} {key} not found", f"未找到{what_zh} {key}")


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    """A wrong state, a duplicate, or a limit that the current state of the data refuses."""

    status_code = 409


class InvalidInput(DomainError):
    """Bad input that passed the schema: names the field, as a schema error does."""

    status_code = 422

    def __init__(self, field: str, message_en: str, message_zh: str) -> None:
        super().__init__(
            f"{field}: {message_en}",
            f"{field}：{message_zh}",
            errors=[{"field": field, "message": message_en, "message_zh": message_zh}],
        )
        self.field = field


class MalformedInput(InvalidInput):
    """Input HTTP itself refuses (a body nested beyond reading, a form without its file): 400, naming the part."""

    status_code = 400
