"""Sign-in throttling, per username and per client address, kept in Valkey so every API process sees it.

Each attempt is counted as a failure before the password is checked, and the fifth one in a row locks its
username and address before the check too: attempts sent in parallel cannot all slip in while the first ones are
being verified (argon2 takes a tenth of a second). A right password takes its attempt back. A lock lasts
``first_wait`` and doubles with every further failure, up to ``longest_wait``; failures are remembered for
``memory`` after the last one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from redis.exceptions import RedisError

from loans.core.errors import DomainError

_ATTEMPT = """
local wait = math.max(redis.call('PTTL', KEYS[2]), redis.call('PTTL', KEYS[4]))
if wait > 0 then return {0, wait, 0} end
local threshold = tonumber(ARGV[1])
local counts = {}
for i = 1, 3, 2 do
  local n = redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[4])
  if n >= threshold then
    local ms = math.min(tonumber(ARGV[2]) * 2 ^ (n - threshold), tonumber(ARGV[3]))
    redis.call('SET', KEYS[i + 1], '1', 'PX', math.floor(ms))
  end
  counts[#counts + 1] = n
end
return {1, 0, counts[2]}
"""


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"too many failed sign-ins: try again in {retry_after_seconds} s",
            f"登录失败次数过多，请 {retry_after_seconds} 秒后再试",
            retry_after=retry_after_seconds,
        )
        self.headers = {"Retry-After": str(retry_after_seconds)}


class SignInUnavailable(DomainError):
    """Valkey, which holds the throttle, does not answer: sign-in is refused rather than left unthrottled."""

    status_code = 503

    def __init__(self) -> None:
        super().__init__("sign-in is unavailable for now, try again shortly", "登录服务暂不可用，请稍后再试")
        self.headers = {"Retry-After": "10"}


@dataclass(frozen=True, slots=True)
class Attempt:
    """The Valkey keys of one sign-in attempt: the username's failures and lock, the address's likewise."""

    user_failures: str
    user_lock: str
    address_failures: str
    address_lock: str
    address_failure_count: int = 0


@dataclass(frozen=True)
class LoginThrottle:
    redis: Any  # redis.asyncio.Redis (the app's arq pool is one)
    threshold: int = 5
    first_wait: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(minutes=15)
    memory: timedelta = timedelta(hours=24)

    async def begin(self, username: str, client_address: str) -> Attempt:
        """Count an attempt, or raise TooManyAttempts while the username or the address is locked."""
        user, address = f"login:user:{username.casefold()}", f"login:address:{client_address}"
        keys = [f"{user}:failures", f"{user}:lock", f"{address}:failures", f"{address}:lock"]
        args = [
            self.threshold,
            _milliseconds(self.first_wait),
            _milliseconds(self.longest_wait),
            int(self.memory.total_seconds()),
        ]
        try:
            allowed, wait_ms, address_failures = await self.redis.eval(_ATTEMPT, len(keys), *keys, *args)
        except RedisError as exc:
            raise SignInUnavailable from exc
        if not allowed:
            raise TooManyAttempts(math.ceil(wait_ms / 1000))
        return Attempt(*keys, address_failure_count=address_failures)

    async def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the username starts afresh, the address has its attempt back."""
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(attempt.user_failures, attempt.user_lock)
                pipe.decr(attempt.address_failures)
                if attempt.address_failure_count >= self.threshold:
                    pipe.delete(attempt.address_lock)  # this attempt set it
                await pipe.execute()
        except RedisError as exc:
            raise SignInUnavailable from exc


def client_address_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The address sign-ins are counted by: the peer's (behind a proxy, run uvicorn with --proxy-headers and
    --forwarded-allow-ips so that the peer is the client the proxy names)."""
    return connection.client.host if connection.client else "unknown"


def _milliseconds(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
