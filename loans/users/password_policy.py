"""What a password must be: at least ten characters, not the username, not a common password.

Common means in ``common_passwords.txt`` (the 10,000 commonest of a public ranked list, with passwords common
among Chinese users), alone or with digits and symbols around it (``Password2026!``), or made of fewer than
four different characters (``1212121212``). The demo password is published in the README: it is refused for
every account but the demo data's own (``UserService.create_demo_user``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from loans.core.errors import InvalidInput

PASSWORD_MIN_LENGTH = 10
DEMO_PASSWORD = "jinguo-demo-2026"
_MIN_DISTINCT_CHARACTERS = 4
_AROUND_A_WORD = "0123456789!@#$%^&*()-_=+.,;:?~`'\"[]{}<>/\\| "


@cache
def common_passwords() -> frozenset[str]:
    lines = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_password_policy(username: str, password: str, field: str = "password") -> None:
    """Raise a 422 naming ``field`` unless ``password`` may be given to ``username``."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            field,
            f"must be at least {PASSWORD_MIN_LENGTH} characters long",
            f"密码至少需要 {PASSWORD_MIN_LENGTH} 个字符",
        )
    lowered = password.casefold()
    if username.casefold() in lowered:
        raise InvalidInput(field, "must not contain the username", "密码不能包含用户名")
    if password == DEMO_PASSWORD:
        raise InvalidInput(
            field, "the demo password is published and may not be used", "演示密码已公开，不能使用"
        )
    if len(set(lowered)) < _MIN_DISTINCT_CHARACTERS or _is_common(lowered):
        raise InvalidInput(field, "is too common or too simple to guess", "密码过于常见或简单，容易被猜中")


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    word = lowered.strip(_AROUND_A_WORD)
    return lowered in common or (word != "" and word in common)
