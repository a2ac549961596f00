"""PostgreSQL and the gateway restarted under load: clean failures while they are away, no partial
write, and every process carries on afterwards without a restart of its own."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harambee_common.components import INTAKE, SERVICES
from harambee_stack.stack import Stack, free_ports
from tests.e2e.helpers import TENANT, accept, case_for, eventually, oauth_client
from tests.faults.load import owner_engine, referral, scalar

RATE = 40  # referrals per second while the fault lasts
LOAD_SECONDS = 20
DOWN_SECONDS = 6


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this module's own: its database and gateway are restarted."""
    with Stack(state_dir=tmp_path_factory.mktemp("restarts"), ports=free_ports(), ephemeral=True) as own:
        yield own


def in_background(work) -> tuple[threading.Thread, dict]:
    """Runs work() in a thread; its result (or the exception it raised) lands in the dict returned."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["answers"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def finished(thread: threading.Thread, outcome: dict) -> list:
    """The thread's answers, once it ended; its exception, raised here."""
    thread.join(timeout=LOAD_SECONDS + 240)
    if "error" in outcome:
        raise outcome["error"]
    assert "answers" in outcome, f"the load did not end within {LOAD_SECONDS + 240}s; answers so far: {PROGRESS}"
    return outcome["answers"]


PROGRESS: Counter = Counter()  # answers by status, as they come (to say where a stuck load stood)


def steady_posts(url: str, token: str, *, seconds: float, start: int, fault: threading.Event) -> list:
    """POSTs referrals at RATE for `seconds`; returns (status, content type, Retry-After, body) of each.

    `fault` is set a quarter of the way in; the caller causes the fault from its own thread.
    """
    answers: list = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            response = httpx.post(f"{url}/intake/v1/tenants/{TENANT}/referrals", json=referral(start + i),
                                  headers={"Authorization": f"Bearer {token}"}, timeout=10, trust_env=False)
            answer = (response.status_code, response.headers.get("content-type", ""),
                      response.headers.get("retry-after"), response.text[:300])
        except httpx.TransportError as exc:  # the gateway itself is away: the connection is refused
            answer = ("refused", type(exc).__name__, None, "")
        with lock:
            answers.append(answer)
            PROGRESS[answer[0]] += 1

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i in range(int(seconds * RATE)):
            due = began + i / RATE
            time.sleep(max(0.0, due - time.monotonic()))  # the clock moves between a check and a sleep
            if i == int(seconds * RATE / 4):
                fault.set()
            pool.submit(one, i)
    return answers


def test_postgres_restarted_under_load(stack):
    partner, officer, worker = (oauth_client(stack, n) for n in ("cso", "intake-officer", "case-worker"))
    token = partner.token["access_token"]
    intake = owner_engine(stack, INTAKE.name)
    before = scalar(intake, "SELECT count(*) FROM referrals")
    fault = threading.Event()
    loader = in_background(lambda: steady_posts(stack.gateway_url, token, seconds=LOAD_SECONDS, start=100_000,
                                                fault=fault))
    assert fault.wait(timeout=30)
    # From this thread: the server is started by pg_ctl, which daemonises it.
    stack.stop_postgres()
    time.sleep(DOWN_SECONDS)
    stack.start_postgres()
    answers = finished(*loader)
    statuses = Counter(a[0] for a in answers)
    print(f"\nPostgreSQL down {DOWN_SECONDS}s during {len(answers)} referrals at {RATE}/s: {dict(statuses)}")

    assert set(statuses) <= {201, 503}, [a for a in answers if a[0] not in (201, 503)][:3]
    assert statuses[503] > 0, "the outage never showed: the test proves nothing"
    for status, content_type, retry_after, body in answers:
        if status == 503:
            assert content_type.startswith("application/problem+json"), body
            assert retry_after and int(retry_after) > 0
            assert "Traceback" not in body
    # No partial write, nothing lost: exactly the referrals that were answered 201 are there.
    assert scalar(intake, "SELECT count(*) FROM referrals") - before == statuses[201]
    intake.dispose()

    # Every service carries on without a restart: ready, and a referral flows to a case.
    for service in SERVICES:
        eventually(lambda s=service: httpx.get(f"{stack.url(s.name)}/readyz", trust_env=False).status_code == 200,
                   timeout=60)
    created = eventually(lambda: (r := partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=referral(1)))
                         .status_code == 201 and r, timeout=60)
    accept(officer, created.json()["id"])
    eventually(lambda: case_for(worker, created.json()["id"]), timeout=90)


def test_gateway_restarted_under_load_keeps_tokens_valid(stack):
    partner = oauth_client(stack, "cso")
    token = partner.token["access_token"]  # issued before the restart
    fault = threading.Event()
    loader = in_background(lambda: steady_posts(stack.gateway_url, token, seconds=LOAD_SECONDS, start=200_000,
                                                fault=fault))
    assert fault.wait(timeout=30)
    stack.stop_component("gateway")
    stack.start_component("gateway")
    answers = finished(*loader)
    statuses = Counter(a[0] for a in answers)
    print(f"\ngateway restarted during {len(answers)} referrals at {RATE}/s: {dict(statuses)}")
    # In flight or arriving while it was away: refused connections or a clean answer, never a 5xx
    # other than a documented 502/503 problem.
    assert set(statuses) <= {201, 502, 503, "refused"}, statuses
    assert statuses["refused"] + statuses[502] + statuses[503] > 0, "the restart never showed"
    for status, content_type, _, body in answers:
        if status in (502, 503):
            assert content_type.startswith("application/problem+json"), body
    # The token issued before the restart is still good.
    response = httpx.get(f"{stack.gateway_url}/intake/v1/tenants/{TENANT}/me",
                         headers={"Authorization": f"Bearer {token}"}, trust_env=False)
    assert response.status_code == 200, response.text
