"""Steady-rate load through the gateway for fault tests: bounded in count and time, loopback only."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from harambee_common.migrations import ALL_TENANTS_SETTING
from harambee_stack.stack import Stack
from tests.e2e.helpers import TENANT, oauth_client


@dataclass
class Submitted:
    """What a load run got back: the referrals created, those accepted at screening, and the failures."""

    referrals: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def referral(i: int) -> dict:
    """A distinct person per referral (a load of one person would exercise the duplicate path only)."""
    return {
        "person": {"given_name": f"Test{i}", "family_name": f"Person{i * 7919 % 100003}",
                   "date_of_birth": f"{1990 + i % 20}-{1 + i % 12:02d}-{1 + i % 28:02d}"},
        "source_type": "education",
        "concern": "Load test: withdrawal from friends.",
        "indicators": ["sharing_violent_material"],
    }


def submit_at_rate(stack: Stack, *, count: int, per_second: float, accept_every: int, workers: int = 8,
                   on_progress: Callable[[int], None] | None = None, deadline_s: float = 900) -> Submitted:
    """Submits `count` referrals at a steady rate; every `accept_every`-th is screened as accepted.

    `on_progress(n)` is called from the pacing loop after the n-th submission was scheduled (the test
    kills and restarts things from there). Stops at the deadline whatever happened.
    """
    result = Submitted()
    local = threading.local()
    run = uuid.uuid4().hex[:8]

    def clients():
        if not hasattr(local, "partner"):
            local.partner = oauth_client(stack, "cso")
            local.officer = oauth_client(stack, "intake-officer")
        return local.partner, local.officer

    def one(i: int) -> None:
        try:  # the token fetch too: a failure anywhere is counted, never lost in the pool
            partner, officer = clients()
            referral_id = _submit(partner, i, key=f"{run}-{i}")
            with result.lock:
                result.referrals.append(referral_id)
            if i % accept_every == 0:
                _accept(officer, referral_id)
                with result.lock:
                    result.accepted.append(referral_id)
        except Exception as exc:  # counted, not raised: the test asserts on the totals
            with result.lock:
                result.failures.append(f"{i}: {exc!r}"[:300])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i in range(count):
            due = started + i / per_second
            now = time.monotonic()
            if now - started > deadline_s:
                break
            if due > now:
                time.sleep(due - now)
            pool.submit(one, i)
            if on_progress is not None:
                on_progress(i + 1)
    return result


# A pooled connection that the server closes as the request goes out is a transport error: the request is
# retried, safely — the submission carries an Idempotency-Key, the screening an If-Match.
ATTEMPTS = 3


def _submit(partner: httpx.Client, i: int, *, key: str) -> str:
    for attempt in range(ATTEMPTS):
        try:
            response = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=referral(i),
                                    headers={"Idempotency-Key": key})
        except httpx.TransportError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        if response.status_code != 201:
            raise AssertionError(f"{response.status_code} {response.text[:200]}")
        return response.json()["id"]
    raise AssertionError("unreachable")


def _accept(officer: httpx.Client, referral_id: str) -> None:
    url = f"/intake/v1/tenants/{TENANT}/referrals/{referral_id}"
    for attempt in range(ATTEMPTS):
        try:
            current = officer.get(url)
            if (current.json().get("screening") or {}).get("outcome") == "accept":
                return  # a retried screening that had gone through
            screened = officer.post(f"{url}/screening", json={"outcome": "accept"},
                                    headers={"If-Match": current.headers["etag"]})
        except httpx.TransportError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        if screened.status_code != 200:
            raise AssertionError(f"screening {screened.status_code} {screened.text[:200]}")
        return


def owner_engine(stack: Stack, component: str) -> sa.Engine:
    """The component's database as its owner, across tenants (counting, never serving)."""
    url = make_url(stack.database(component).owner).update_query_dict(
        {"options": f"-c {ALL_TENANTS_SETTING}=on"})
    return sa.create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)


def scalar(engine: sa.Engine, sql: str, **params) -> object:
    """One value of one query."""
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()
