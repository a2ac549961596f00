"""A bounded HTTP load loop on loopback: fixed concurrency, stops at a request count or a deadline."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp


@dataclass(frozen=True)
class Result:
    """Throughput and latency of one run."""

    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds

    def percentile(self, p: float) -> float:
        """A latency percentile in milliseconds."""
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[int(p) - 1] * 1000

    def line(self) -> str:
        """One printable line of figures."""
        return (f"{self.name:<46} {self.rps:9.0f} req/s  p50 {self.percentile(50):7.2f} ms  "
                f"p99 {self.percentile(99):7.2f} ms  errors {self.errors}")


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"load tests target loopback only, not {host}")


async def _run(name: str, method: str, url: str, *, headers: dict[str, str], body: Callable[[], Any] | None,
               concurrency: int, seconds: float, max_requests: int, expect: int) -> Result:
    _check_loopback(url)
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors, sent
            while sent < max_requests and time.perf_counter() < deadline:
                sent += 1
                started = time.perf_counter()
                payload = body() if body else None
                async with session.request(method, url, headers=headers, json=payload) as response:
                    await response.read()
                    if response.status != expect:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Result(name, len(latencies), errors, elapsed, latencies)


def run(name: str, method: str, url: str, *, headers: dict[str, str] | None = None,
        body: Callable[[], Any] | None = None, concurrency: int = 32, seconds: float = 5.0,
        max_requests: int = 100_000, expect: int = 200) -> Result:
    """Drives one endpoint at fixed concurrency until the deadline or the request cap."""
    return asyncio.run(_run(name, method, url, headers=headers or {}, body=body, concurrency=concurrency,
                            seconds=seconds, max_requests=max_requests, expect=expect))
