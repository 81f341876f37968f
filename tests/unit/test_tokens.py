import time
from datetime import timedelta

import pytest
from litestar.exceptions import NotAuthorizedException

from loans.users.auth import RememberedToken, build_jwt_auth, token_extras

SECRET = "s" * 48


def issue(secret: str = SECRET, ttl: timedelta = timedelta(minutes=5), username: str = "liaison") -> str:
    return build_jwt_auth(secret, ttl).create_token(
        identifier="0190a4c2-0000-7000-8000-000000000001",
        token_extras=token_extras(username, "bank_liaison", "130102", "ICBC", 0),
    )


def test_a_token_is_verified_once_and_then_answered_from_memory():
    encoded = issue(username="memory")
    first = RememberedToken.decode(encoded, SECRET, "HS256")
    assert first.extras["username"] == "memory"
    assert RememberedToken.decode(encoded, SECRET, "HS256") is first


def test_a_remembered_token_is_refused_once_it_expires():
    encoded = issue(ttl=timedelta(seconds=3), username="expiring")  # lives long enough on a busy machine
    assert RememberedToken.decode(encoded, SECRET, "HS256").extras["username"] == "expiring"
    time.sleep(3.1)
    with pytest.raises(NotAuthorizedException):
        RememberedToken.decode(encoded, SECRET, "HS256")


def test_a_token_signed_with_another_secret_is_refused():
    RememberedToken.decode(issue(username="forged"), SECRET, "HS256")
    with pytest.raises(NotAuthorizedException):
        RememberedToken.decode(issue(secret="t" * 48, username="forged"), SECRET, "HS256")
