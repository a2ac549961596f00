"""Idempotency-Key on POST: a retried submission creates nothing twice."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.intake.helpers import BASE, OTHER_TENANT, TENANT, agree, outbox, partner, referral
from tests.support.services import rows, running_service


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        for tenant in (TENANT, OTHER_TENANT,):
            agree(running[0], tenant)
        yield running


def post(client, headers, key: str | None, body=None, tenant: str = TENANT):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(f"/v1/tenants/{tenant}/referrals", json=body or referral(),
                       headers={**headers, **extra})


def referral_count(database, tenant: str = TENANT) -> int:
    return rows(database.owner, "SELECT count(*) FROM referrals WHERE tenant_id = :t", t=tenant)[0][0]


def test_a_retried_post_returns_the_first_response_and_creates_nothing(intake, issuer):
    client, database = intake
    key = str(uuid.uuid4())
    first = post(client, partner(issuer), key)
    assert first.status_code == 201
    before = referral_count(database)
    again = post(client, partner(issuer), key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert referral_count(database) == before
    assert len(outbox(database.owner, "referral.received", referral_id=first.json()["id"])) == 1


def test_the_same_key_with_another_body_is_a_conflict_problem(intake, issuer):
    client, database = intake
    key = str(uuid.uuid4())
    assert post(client, partner(issuer), key).status_code == 201
    before = referral_count(database)
    response = post(client, partner(issuer), key, referral(concern="Something else entirely."))
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert referral_count(database) == before


def test_keys_belong_to_one_client_in_one_tenant(intake, issuer):
    client, _ = intake
    key = str(uuid.uuid4())
    ids = {
        post(client, partner(issuer, org="cso-a"), key).json()["id"],
        post(client, partner(issuer, org="cso-b"), key).json()["id"],
        post(client, partner(issuer, org="cso-a", tenant=OTHER_TENANT), key, tenant=OTHER_TENANT).json()["id"],
    }
    assert len(ids) == 3


def test_concurrent_retries_create_one_referral(intake, issuer):
    client, database = intake
    key = str(uuid.uuid4())
    headers = partner(issuer)
    before = referral_count(database)
    results: list = []

    def send() -> None:
        results.append(post(client, headers, key))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [r.status_code for r in results] == [201] * 6
    assert len({r.json()["id"] for r in results}) == 1
    assert referral_count(database) == before + 1


def test_a_request_that_failed_does_not_use_up_its_key(intake, issuer):
    client, _ = intake
    key = str(uuid.uuid4())
    failed = post(client, partner(issuer), key, referral(indicators=["not_a_code"]))
    assert failed.status_code == 422
    assert post(client, partner(issuer), key).status_code == 201


def test_a_malformed_key_is_a_problem(intake, issuer):
    client, _ = intake
    response = post(client, partner(issuer), "x" * 201)
    assert response.status_code == 422 and response.json()["detail"].startswith("Idempotency-Key")


def test_without_a_key_each_post_is_a_new_referral(intake, issuer):
    client, _ = intake
    assert post(client, partner(issuer), None).json()["id"] != post(client, partner(issuer), None).json()["id"]


def test_a_replay_reaches_only_what_the_caller_may_do(intake, issuer):
    client, _ = intake
    key = str(uuid.uuid4())
    assert post(client, partner(issuer), key).status_code == 201
    read_only = issuer.headers(tenants={TENANT: ["partner"]}, scope="referrals:read",
                               org="mombasa-youth-cso", client_id="mombasa-youth-cso-system")
    assert client.post(f"{BASE}/referrals", json=referral(),
                       headers={**read_only, "Idempotency-Key": key}).status_code == 403
