"""What the emulator's state holds for fault injection and flood control: a scripted fault
and a token bucket (plain records, so the state imports neither of the parts using them)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.emulator.wire import ApiError

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Fault:
    """A scripted failure for upcoming calls of a method."""

    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    delay: float

    def error(self) -> ApiError:
        """The error answer of this fault, worded as Telegram words it by default."""
        description = self.description or _DEFAULT_DESCRIPTIONS.get(self.status, "Error")
        if self.status == 429 and not self.description:
            description = f"Too Many Requests: retry after {self.retry_after or 1}"
        return ApiError(self.status, description, self.retry_after)


class Bucket:
    """Token bucket: `rate` tokens per second, at most `capacity` stored."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else 3600.0
