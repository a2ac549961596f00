"""Per-client rate limits at the proxy: token buckets keyed by the verified client id."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from harambee_gateway.app import create_app
from harambee_gateway.ratelimit import RateLimiter
from tests.gateway.conftest import gateway_settings, gateway_token, serving
from tests.gateway.test_proxy import upstream

# Low enough that a flood exceeds it however loaded the machine; the polite client paces at half of it.
RATE, BURST = 4.0, 8.0
POLITE_PER_SECOND = RATE / 2


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    limiter = RateLimiter(rate=10, burst=3)
    assert [limiter.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", now=0.0) == pytest.approx(0.1)
    assert limiter.take("b", now=0.0) == 0.0  # another key has its own bucket
    assert limiter.take("a", now=0.1) == 0.0
    assert limiter.take("a", now=0.1) > 0
    assert [limiter.take("a", now=10.0) for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # never above the burst


def test_the_limiter_forgets_idle_keys_to_stay_bounded() -> None:
    limiter = RateLimiter(rate=10, burst=1, max_keys=100)
    for n in range(1000):
        limiter.take(f"k{n}", now=float(n))
    assert len(limiter._buckets) <= 100


class CountingUpstream:
    """The service stand-in, counting the requests that reach it by their bearer token."""

    def __init__(self) -> None:
        self.reached: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.reached[dict(scope["headers"]).get(b"authorization", b"").decode()] += 1
        await upstream(scope, receive, send)


SERVICE = CountingUpstream()


@contextmanager
def limited_gateway(signing_key_pem: bytes, *, rate: float, burst: float) -> Iterator[str]:
    with serving(SERVICE) as upstream_url:
        settings = gateway_settings(signing_key_pem=signing_key_pem, upstreams={"intake": upstream_url})
        settings = dataclasses.replace(settings, rate_limit_per_second=rate, rate_limit_burst=burst)
        with serving(create_app(settings)) as url:
            yield url


@pytest.fixture(scope="module")
def gateway_url(signing_key_pem: bytes) -> Iterator[str]:
    with limited_gateway(signing_key_pem, rate=RATE, burst=BURST) as url:
        yield url


@pytest.fixture(scope="module")
def slow_gateway_url(signing_key_pem: bytes) -> Iterator[str]:
    """Buckets that refill slowly: a caller one request at a time reaches the limit however slow the machine."""
    with limited_gateway(signing_key_pem, rate=0.1, burst=BURST) as url:
        yield url


@dataclass
class Tally:
    statuses: list[int] = field(default_factory=list)
    retry_after: set[str] = field(default_factory=set)
    problem_types: set[str] = field(default_factory=set)


async def hammer(client: httpx.AsyncClient, url: str, token: str, *, until: asyncio.Event, concurrency: int,
                 answers: list[str]) -> Tally:
    """As fast as it can from `concurrency` workers, until told to stop once refused (bounded in count and time)."""
    tally = Tally()
    queue = iter(range(20_000))
    deadline = time.monotonic() + 60

    async def worker() -> None:
        for _ in queue:
            if (until.is_set() and 429 in tally.statuses) or time.monotonic() > deadline:
                return
            response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            tally.statuses.append(response.status_code)
            answers.append(f"abuser {response.status_code}")
            if response.status_code == 429:
                tally.retry_after.add(response.headers["retry-after"])
                tally.problem_types.add(response.json()["type"])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tally


async def pace(client: httpx.AsyncClient, url: str, token: str, *, requests: int, per_second: float,
               answers: list[str]) -> Tally:
    """Well within the limit: one request every 1/per_second seconds."""
    tally = Tally()
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        tally.statuses.append(response.status_code)
        answers.append("polite")
        await asyncio.sleep(max(0.0, 1 / per_second - (time.perf_counter() - started)))
    return tally


def test_one_abusive_client_does_not_hold_up_another(gateway_url: str, signing_key_pem: bytes) -> None:
    abuser = gateway_token(signing_key_pem, client_id="hc_abuser")
    polite = gateway_token(signing_key_pem, client_id="hc_polite")
    url = f"{gateway_url}/intake/v1/tenants/ke-mombasa/referrals"
    answers: list[str] = []  # who was answered, in the order the answers came

    async def scenario() -> tuple[Tally, Tally, Tally, float]:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        # Counts and order, not wall times: a loaded machine slows every answer, but changes none of these.
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            alone = await pace(client, url, polite, requests=5, per_second=POLITE_PER_SECOND, answers=[])
            await asyncio.sleep(1 / RATE * BURST)  # let the polite bucket refill
            done = asyncio.Event()

            async def polite_during_the_flood() -> Tally:
                try:
                    return await pace(client, url, polite, requests=10, per_second=POLITE_PER_SECOND, answers=answers)
                finally:
                    done.set()

            started = time.monotonic()
            abuse, during = await asyncio.gather(
                hammer(client, url, abuser, until=done, concurrency=16, answers=answers), polite_during_the_flood())
        return alone, abuse, during, time.monotonic() - started

    alone, abuse, during, elapsed = asyncio.run(scenario())

    assert set(alone.statuses) == {201}
    assert set(during.statuses) == {201}, "the polite client was never limited"
    refused, allowed = abuse.statuses.count(429), abuse.statuses.count(201)
    assert refused > 0 and set(abuse.statuses) <= {201, 429}
    assert allowed <= BURST + RATE * elapsed + 1
    assert abuse.retry_after == {"1"}
    assert abuse.problem_types == {"https://harambee.example/problems/too-many-requests"}
    # A refusal never reaches the service: it received exactly what was allowed.
    assert SERVICE.reached[f"Bearer {abuser}"] == allowed
    assert SERVICE.reached[f"Bearer {polite}"] == len(alone.statuses) + len(during.statuses)
    # The polite client is served during the flood, not after it: between its answers the abuser's keep coming
    # (a gateway that queued it behind the flood would answer it in a clump once the flood ended).
    polite_at = [n for n, who in enumerate(answers) if who == "polite"]
    gaps = list(itertools.pairwise(polite_at))
    interleaved = [a for a, b in gaps if b > a + 1]
    assert len(interleaved) >= len(gaps) // 2, answers


def test_callers_without_a_valid_token_are_limited_by_address_and_still_forwarded(
    slow_gateway_url: str,
) -> None:
    statuses: list[int] = []
    deadline = time.monotonic() + 10
    with httpx.Client(base_url=slow_gateway_url) as client:
        for _ in range(500):  # until limited, bounded in count and time
            statuses.append(client.get("/intake/v1/x", headers={"Authorization": "Bearer forged"}).status_code)
            if statuses[-1] == 429 or time.monotonic() > deadline:
                break
    # The service, not the gateway, answers a bad token; the gateway only counts the caller.
    assert statuses[0] == 201
    assert statuses[-1] == 429


def test_people_signed_in_through_one_app_have_their_own_buckets(
    slow_gateway_url: str, signing_key_pem: bytes
) -> None:
    first = gateway_token(signing_key_pem, client_id="hc_web", subject="person-1")
    second = gateway_token(signing_key_pem, client_id="hc_web", subject="person-2")
    with httpx.Client(base_url=slow_gateway_url) as client:
        deadline = time.monotonic() + 10
        limited = None
        for _ in range(500):  # until the first person is limited, bounded in count and time
            limited = client.get("/intake/v1/x", headers={"Authorization": f"Bearer {first}"})
            if limited.status_code == 429 or time.monotonic() > deadline:
                break
        assert limited is not None and limited.status_code == 429
        assert client.get("/intake/v1/x", headers={"Authorization": f"Bearer {second}"}).status_code == 201
