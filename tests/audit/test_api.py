"""The compliance API: only compliance officers of the tenant, search with filters and a cursor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from harambee_audit.app import create_app
from harambee_common.consumer import EventConsumer
from harambee_common.pagination import encode_cursor
from tests.audit.helpers import deliver, make_event
from tests.support.tokens import TokenIssuer, new_key

OFFICER = ["compliance_officer"]


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers: the tests seed the log through the consumer."""
    yield TestClient(create_app())


def entries_url(tenant: str) -> str:
    return f"/v1/tenants/{tenant}/entries"


def test_a_request_without_a_token_is_refused(api: TestClient, tenant: str) -> None:
    response = api.get(entries_url(tenant))

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://harambee.example/problems/unauthenticated"


def test_a_token_signed_by_an_unknown_key_is_refused(
    api: TestClient, issuer: TokenIssuer, tenant: str
) -> None:
    headers = issuer.headers(tenants={tenant: OFFICER}, key=new_key())

    assert api.get(entries_url(tenant), headers=headers).status_code == 401


def test_an_officer_without_the_audit_scope_is_forbidden(
    api: TestClient, issuer: TokenIssuer, tenant: str
) -> None:
    headers = issuer.headers(tenants={tenant: OFFICER}, scope="cases:read")

    response = api.get(entries_url(tenant), headers=headers)

    assert response.status_code == 403
    assert response.json()["type"].endswith("/insufficient-scope")


def test_a_case_worker_with_the_scope_is_forbidden(api: TestClient, issuer: TokenIssuer, tenant: str) -> None:
    headers = issuer.headers(tenants={tenant: ["case_worker"]}, scope="audit:read cases:read")

    assert api.get(entries_url(tenant), headers=headers).status_code == 403


def test_an_officer_of_another_tenant_cannot_tell_whether_the_tenant_exists(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    deliver(consumer(), make_event(tenant))
    headers = issuer.headers(tenants={"ke-elsewhere": OFFICER})

    existing = api.get(entries_url(tenant), headers=headers)
    made_up = api.get(entries_url(f"{tenant}-nowhere"), headers=headers)

    # An officer elsewhere may read only under an agreement (test_national.py); none names it here.
    assert existing.status_code == made_up.status_code == 403
    assert existing.json()["type"] == made_up.json()["type"] == "https://harambee.example/problems/no-agreement"
    assert existing.json()["detail"] == made_up.json()["detail"]


def test_anyone_else_of_another_tenant_is_told_the_tenant_does_not_exist(
    api: TestClient, issuer: TokenIssuer, tenant: str
) -> None:
    headers = issuer.headers(tenants={"ke-elsewhere": ["case_worker"]})

    response = api.get(entries_url(tenant), headers=headers)

    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")


def test_an_officer_sees_only_their_tenants_entries(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    mine = make_event(tenant, type="access.recorded", subject="subj-a", actor="user-1")
    deliver(audit, mine)
    deliver(audit, make_event(f"{tenant}-other", subject="subj-a"))

    page = api.get(entries_url(tenant), headers=issuer.headers(tenants={tenant: OFFICER})).json()

    assert page["total"] == 1
    [entry] = page["items"]
    assert entry["event_id"] == mine.id
    assert (entry["seq"], entry["type"], entry["subject"], entry["source"]) == (
        0, "access.recorded", "subj-a", "/harambee/intake",
    )
    assert entry["data"] == mine.data
    assert entry["actor"] == "user-1"
    assert len(bytes.fromhex(entry["leaf_hash"])) == 32


def test_entries_filter_by_subject_type_actor_and_time(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    early = datetime(2025, 1, 1, tzinfo=UTC)
    events = [
        make_event(tenant, subject="subj-a", type="access.recorded", actor="user-1"),
        make_event(tenant, subject="subj-b", type="access.recorded", actor="user-2"),
        make_event(tenant, subject="subj-a", type="agreement.applied", actor="user-2"),
    ]
    old = make_event(tenant, subject="subj-a", type="agreement.applied", actor="user-2")
    old = replace(old, time=early)
    for event in [*events, old]:
        deliver(audit, event)
    headers = issuer.headers(tenants={tenant: OFFICER})

    def ids(**params: str) -> list[str]:
        page = api.get(entries_url(tenant), params=params, headers=headers).json()
        return [e["event_id"] for e in page["items"]]

    assert ids(subject="subj-a") == [events[0].id, events[2].id, old.id]
    assert ids(type="agreement.applied") == [events[2].id, old.id]
    assert ids(actor="user-2", subject="subj-a") == [events[2].id, old.id]
    assert ids(until=(early + timedelta(days=1)).isoformat()) == [old.id]
    assert ids(since=(early + timedelta(days=1)).isoformat(), type="agreement.applied") == [events[2].id]


def test_pages_follow_an_opaque_cursor_to_the_end(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    sent = [make_event(tenant) for _ in range(7)]
    for event in sent:
        deliver(audit, event)
    headers = issuer.headers(tenants={tenant: OFFICER})

    seen, cursor, pages = [], None, 0
    while pages < 10:  # of the events sent: each page's read is recorded after them (test_reads.py)
        params = {"type": "referral.received", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get(entries_url(tenant), params=params, headers=headers).json()
        seen += [e["event_id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [e.id for e in sent]
    assert pages == 3
    assert page["total"] == 7


def test_a_page_larger_than_500_or_a_forged_cursor_is_a_validation_problem(
    api: TestClient, issuer: TokenIssuer, tenant: str
) -> None:
    headers = issuer.headers(tenants={tenant: OFFICER})

    assert api.get(entries_url(tenant), params={"limit": 501}, headers=headers).status_code == 422
    forged = api.get(entries_url(tenant), params={"cursor": "not-a-cursor"}, headers=headers)
    assert forged.status_code == 422
    assert forged.headers["content-type"] == "application/problem+json"


def test_who_accessed_a_persons_record_lists_reads_from_every_service(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    reads = [
        make_event(tenant, type="access.recorded", subject="subj-p", actor="worker-1", purpose="assessment"),
        make_event(tenant, type="access.recorded", subject="subj-p", actor="partner-9", purpose="status"),
    ]
    reads[1] = replace(reads[1], topic="interventions.events", source="/harambee/interventions")
    deliver(audit, reads[0])
    deliver(audit, make_event(tenant, type="case.opened", subject="subj-p"))  # a change, not a read
    deliver(audit, make_event(tenant, type="access.recorded", subject="subj-q", actor="worker-1"))
    deliver(audit, reads[1])

    page = api.get(
        f"/v1/tenants/{tenant}/subjects/subj-p/accesses", headers=issuer.headers(tenants={tenant: OFFICER})
    ).json()

    assert [(e["actor"], e["purpose"]) for e in page["items"]] == [
        ("worker-1", "assessment"),
        ("partner-9", "status"),
    ]
    assert page["total"] == 2


BEYOND_BIGINT = 2**63  # PostgreSQL's bigint ends one below: no row has it, and the driver cannot send it


@pytest.mark.parametrize(("method", "path", "params"), [
    ("GET", f"entries/{BEYOND_BIGINT}", {}),
    ("GET", f"entries/{BEYOND_BIGINT}/inclusion-proof", {}),
    ("GET", "entries/0/inclusion-proof", {"tree_size": BEYOND_BIGINT}),
    ("GET", f"checkpoints/{BEYOND_BIGINT}", {}),
    ("GET", "consistency-proof", {"first": 1, "second": BEYOND_BIGINT}),
    ("GET", "consistency-proof", {"first": BEYOND_BIGINT, "second": 1}),
    ("GET", "export", {"from": BEYOND_BIGINT}),
    ("GET", "export", {"to": BEYOND_BIGINT}),
    ("GET", f"emergency-accesses/{BEYOND_BIGINT}", {}),
    ("POST", f"emergency-accesses/{BEYOND_BIGINT}/review", {}),
])
def test_an_integer_beyond_bigint_is_a_validation_problem_not_a_server_error(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str,
    method: str, path: str, params: dict[str, int],
) -> None:
    deliver(consumer(), make_event(tenant))
    body = {"decision": "flagged", "note": "ref 1"} if method == "POST" else None

    response = api.request(method, f"/v1/tenants/{tenant}/{path}", params=params, json=body,
                           headers=issuer.headers(tenants={tenant: OFFICER}))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://harambee.example/problems/validation-failed"


@pytest.mark.parametrize("path", ["entries", "subjects/subj-a/accesses", "checkpoints", "emergency-accesses",
                                  "read-alerts"])
@pytest.mark.parametrize("cursor", [
    "not-a-cursor",
    encode_cursor(BEYOND_BIGINT),  # a position no bigint key can have
    encode_cursor(-1),
    encode_cursor("7"),
    encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), BEYOND_BIGINT),
    encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), "not-a-uuid"),
    "x" * 1001,  # longer than any cursor the API issues
])
def test_a_cursor_the_api_did_not_issue_is_a_validation_problem(
    api: TestClient, issuer: TokenIssuer, tenant: str, path: str, cursor: str
) -> None:
    response = api.get(f"/v1/tenants/{tenant}/{path}", params={"cursor": cursor},
                       headers=issuer.headers(tenants={tenant: OFFICER}))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
