"""Per-client rate limits: a token bucket for each client id, kept in this process's memory.

Every replica keeps its own buckets, so N replicas allow up to N times the rate; the limit is a
guard against one client starving the others, not a billing meter.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

# The problem lives in the shared library: every service's OpenAPI document lists it (the gateway answers it).
from harambee_common.problems import TooManyRequests

__all__ = ["RateLimiter", "TooManyRequests", "retry_after"]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets: each key may spend `burst` requests at once, refilled at `rate` per second."""

    def __init__(self, *, rate: float, burst: float, max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float | None = None) -> float:
        """Spends one request for key: 0 when allowed, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(tokens=self.burst, at=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drops buckets that have refilled: forgetting them changes nothing for their keys."""
        horizon = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < horizon}
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()  # still full of active keys: start everyone afresh rather than grow


def retry_after(seconds: float) -> str:
    """The Retry-After header value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))
