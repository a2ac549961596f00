"""Break the glass: emergency reads wait, visibly ageing, for one compliance officer's recorded decision."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from harambee_audit import emergency
from harambee_audit.app import create_app
from harambee_audit.signing import CheckpointSigner
from harambee_common.auth import Principal, TenantPrincipal
from harambee_common.components import ASSESSMENT
from harambee_common.consumer import EventConsumer
from harambee_common.db import unit_of_work
from harambee_common.event_source import EventSource
from harambee_common.events import Event
from harambee_common.problems import Problem
from tests.audit.helpers import deliver, make_event, raw_event, wait_until
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers: the tests seed the log through the consumer."""
    yield TestClient(create_app())


def emergency_read(
    tenant: str, *, actor: str = "worker-1", reason: Any = "Imminent risk reported by the family", hours_ago: float = 0,
    subject: str = "subj-e", **data: Any,
) -> Event:
    """An access.recorded event made under an emergency reason, hours_ago in the past."""
    event = make_event(
        tenant, type="access.recorded", subject=subject, actor=actor, purpose="safeguarding",
        emergency=True, reason=reason, **data,
    )
    return replace(event, time=datetime.now(UTC) - timedelta(hours=hours_ago))


def queue_url(tenant: str) -> str:
    return f"/v1/tenants/{tenant}/emergency-accesses"


def officer(issuer: TokenIssuer, tenant: str, sub: str = "officer-1") -> dict[str, str]:
    return issuer.headers(tenants={tenant: OFFICER}, sub=sub)


def log_entry(owner: sa.Engine, tenant: str, seq: int) -> dict:
    with owner.connect() as conn:
        canonical = conn.scalar(
            sa.text("SELECT canonical FROM entries WHERE tenant_id = :t AND seq = :s"), {"t": tenant, "s": seq}
        )
    return json.loads(canonical)


def test_only_reads_marked_as_emergencies_are_queued_oldest_first_with_reason_and_age(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    recent = emergency_read(tenant, actor="worker-2", hours_ago=2, reason="Threat to life")
    old = emergency_read(tenant, actor="worker-1", hours_ago=30, reason="Missing child")
    not_emergencies = [
        make_event(tenant, type="access.recorded", actor="worker-3"),
        # These two do not fit the catalogue: the consumer parks them, so they are neither logged nor queued.
        raw_event(tenant, type="access.recorded", subject="subj-e",
                  data={**make_event(tenant, type="access.recorded").data, "emergency": "true", "reason": "a string"}),
        raw_event(tenant, type="case.opened", subject="subj-e",
                  data={**make_event(tenant, type="case.opened").data, "emergency": True, "reason": "not a read"}),
    ]
    applied = [deliver(audit, event) for event in [recent, *not_emergencies, old]]

    page = api.get(queue_url(tenant), headers=officer(issuer, tenant)).json()

    assert applied == [True, True, False, False, True]
    assert [i["event_id"] for i in page["items"]] == [old.id, recent.id]
    first, second = page["items"]
    assert (first["seq"], first["actor"], first["reason"]) == (2, "worker-1", "Missing child")
    assert first["status"] == "pending"
    assert first["subject"] == "subj-e"
    assert 29.9 <= first["age_hours"] <= 30.2
    assert 1.9 <= second["age_hours"] <= 2.2
    assert (page["total"], page["overdue"], page["overdue_after_hours"]) == (2, 0, 72)


def test_an_emergency_access_without_a_reason_is_queued_with_none_shown(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    deliver(consumer(), emergency_read(tenant, reason="  "))

    [item] = api.get(queue_url(tenant), headers=officer(issuer, tenant)).json()["items"]

    assert item["reason"] is None


def test_unreviewed_items_become_overdue_after_72_hours_by_default(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    for hours in (100, 73, 71, 1, -0.5):  # the last from a service whose clock runs ahead
        deliver(audit, emergency_read(tenant, hours_ago=hours))

    page = api.get(queue_url(tenant), headers=officer(issuer, tenant)).json()

    assert [(round(i["age_hours"]), i["overdue"]) for i in page["items"]] == [
        (100, True), (73, True), (71, False), (1, False), (0, False),
    ]
    assert (page["total"], page["overdue"]) == (5, 2)


def test_the_overdue_deadline_is_configurable(
    audit_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, issuer: TokenIssuer,
    consumer: Callable[..., EventConsumer], tenant: str,
) -> None:
    monkeypatch.setenv("AUDIT_REVIEW_OVERDUE_HOURS", "4")
    api = TestClient(create_app())
    audit = consumer()
    for hours in (5, 3):
        deliver(audit, emergency_read(tenant, hours_ago=hours))

    page = api.get(queue_url(tenant), headers=officer(issuer, tenant)).json()

    assert [i["overdue"] for i in page["items"]] == [True, False]
    assert (page["overdue"], page["overdue_after_hours"]) == (1, 4)


def test_signing_off_records_the_decision_in_the_log_and_leaves_the_queue(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    audit = consumer()
    access = emergency_read(tenant, actor="worker-1", hours_ago=80)
    deliver(audit, access)
    deliver(audit, emergency_read(tenant, actor="worker-2", hours_ago=1))
    headers = officer(issuer, tenant, sub="officer-7")

    response = api.post(
        f"{queue_url(tenant)}/0/review", headers=headers,
        json={"decision": "signed_off", "note": "Police request ref 2231 seen; access was necessary."},
    )

    assert response.status_code == 201, response.text
    item = response.json()
    assert (item["status"], item["overdue"], item["review"]["reviewed_by"]) == ("signed_off", False, "officer-7")
    decision = log_entry(owner, tenant, item["review"]["log_seq"])
    assert item["review"]["log_seq"] == 2  # appended after the two accesses, in the same hash chain
    assert decision["type"] == "emergency_access.signed_off"
    assert decision["subject"] == access.subject  # found by "everything about this person"
    assert decision["actor"] == "officer-7"
    assert "note" not in decision["data"] and "2231" not in json.dumps(decision)  # the words stay in the review
    assert (decision["data"]["reviewed_seq"], decision["data"]["reviewed_event_id"]) == (0, access.id)
    pending = api.get(queue_url(tenant), headers=headers).json()
    assert [i["seq"] for i in pending["items"]] == [1]
    assert pending["overdue"] == 0
    done = api.get(queue_url(tenant), params={"status": "signed_off"}, headers=headers).json()
    assert [(i["seq"], i["review"]["note"]) for i in done["items"]] == [
        (0, "Police request ref 2231 seen; access was necessary.")
    ]
    assert api.get(f"{queue_url(tenant)}/0", headers=headers).json()["status"] == "signed_off"


def test_a_flagged_access_is_decided_once_and_a_second_decision_is_a_conflict(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], owner: sa.Engine, tenant: str
) -> None:
    deliver(consumer(), emergency_read(tenant))
    headers = officer(issuer, tenant)

    flagged = api.post(f"{queue_url(tenant)}/0/review", headers=headers,
                       json={"decision": "flagged", "note": "No emergency on file; refer to the DPO."})
    again = api.post(f"{queue_url(tenant)}/0/review", headers=headers,
                     json={"decision": "signed_off", "note": "Changed my mind."})

    assert flagged.status_code == 201
    assert log_entry(owner, tenant, 1)["type"] == "emergency_access.flagged"
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"].endswith("/already-reviewed")
    with owner.connect() as conn:  # the refused decision left nothing in the log
        assert conn.scalar(sa.text("SELECT count(*) FROM entries WHERE tenant_id = :t"), {"t": tenant}) == 2
    flagged_page = api.get(queue_url(tenant), params={"status": "flagged"}, headers=headers).json()
    assert [i["review"]["decision"] for i in flagged_page["items"]] == ["flagged"]


def test_an_officer_cannot_review_their_own_emergency_access(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    deliver(consumer(), emergency_read(tenant, actor="officer-1"))

    response = api.post(f"{queue_url(tenant)}/0/review", headers=officer(issuer, tenant, sub="officer-1"),
                        json={"decision": "signed_off", "note": "It was me."})

    assert response.status_code == 403
    assert response.json()["type"].endswith("/own-access")


def test_reviews_of_other_entries_bad_decisions_and_other_roles_are_refused(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    deliver(audit, emergency_read(tenant))
    deliver(audit, make_event(tenant, type="access.recorded"))
    headers = officer(issuer, tenant)
    worker = issuer.headers(tenants={tenant: ["case_worker"]}, scope="audit:read")

    not_queued = api.post(f"{queue_url(tenant)}/1/review", headers=headers,
                          json={"decision": "signed_off", "note": "x"})
    bad = api.post(f"{queue_url(tenant)}/0/review", headers=headers, json={"decision": "approved", "note": "x"})
    empty = api.post(f"{queue_url(tenant)}/0/review", headers=headers, json={"decision": "flagged", "note": ""})

    assert not_queued.status_code == 404
    assert (bad.status_code, empty.status_code) == (422, 422)
    assert api.get(queue_url(tenant), headers=worker).status_code == 403
    assert api.post(f"{queue_url(tenant)}/0/review", headers=worker,
                    json={"decision": "signed_off", "note": "x"}).status_code == 403
    assert api.get(queue_url(tenant), params={"status": "pending"}, headers=headers).json()["total"] == 1


def test_the_queue_pages_oldest_first_by_cursor(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer], tenant: str
) -> None:
    audit = consumer()
    events = [emergency_read(tenant, hours_ago=h) for h in (5, 50, 1, 20, 9)]
    for event in events:
        deliver(audit, event)
    headers = officer(issuer, tenant)

    seen, cursor = [], None
    for _ in range(5):
        page = api.get(queue_url(tenant), params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                       headers=headers).json()
        seen += [i["event_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [events[i].id for i in (1, 3, 4, 0, 2)]
    assert api.get(queue_url(tenant), params={"cursor": "bm9wZQ"}, headers=headers).status_code == 422


def test_two_officers_deciding_at_once_leave_one_decision_and_one_log_entry(
    consumer: Callable[..., EventConsumer], sessions: sessionmaker[Session], owner: sa.Engine,
    signer: CheckpointSigner, tenant: str,
) -> None:
    deliver(consumer(), emergency_read(tenant))
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def decide(sub: str, decision: str) -> None:
        principal = TenantPrincipal(
            principal=Principal(subject=sub, client_id="console", scopes=frozenset({"audit:read"}),
                                tenants={tenant: frozenset(OFFICER)}, organisation=None),
            tenant=tenant,
        )
        barrier.wait()
        try:
            with unit_of_work(sessions, tenant) as uow:
                emergency.review(uow=uow, principal=principal, seq=0, decision=decision, note=f"by {sub}",
                                 signer=signer, checkpoint_every=1000, overdue_hours=72)
            outcomes.append(decision)
        except Problem as problem:
            outcomes.append(problem.slug)

    threads = [threading.Thread(target=decide, args=a) for a in (("officer-a", "signed_off"), ("officer-b", "flagged"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) in (["already-reviewed", "signed_off"], ["already-reviewed", "flagged"])
    with owner.connect() as conn:
        types = list(conn.scalars(sa.text("SELECT type FROM entries WHERE tenant_id = :t ORDER BY seq"), {"t": tenant}))
    assert types == ["access.recorded", next(f"emergency_access.{o}" for o in outcomes if o != "already-reviewed")]


def test_the_app_role_cannot_change_a_decision(
    api: TestClient, issuer: TokenIssuer, consumer: Callable[..., EventConsumer],
    sessions: sessionmaker[Session], tenant: str,
) -> None:
    deliver(consumer(), emergency_read(tenant))
    api.post(f"{queue_url(tenant)}/0/review", headers=officer(issuer, tenant),
             json={"decision": "flagged", "note": "x"})

    with pytest.raises(sa.exc.DBAPIError, match="permission denied"), unit_of_work(sessions, tenant) as uow:
        uow.session.execute(sa.text("UPDATE emergency_reviews SET decision = 'signed_off'"))
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"), unit_of_work(sessions, tenant) as uow:
        uow.session.execute(sa.text("DELETE FROM emergency_accesses"))


def test_an_emergency_read_recorded_by_a_service_reaches_the_queue_through_the_broker(
    audit_env: dict[str, str], issuer: TokenIssuer, tenant: str
) -> None:
    reader = TenantPrincipal(
        principal=Principal(subject="worker-9", client_id="county-console", scopes=frozenset({"cases:read"}),
                            tenants={tenant: frozenset({"case_worker"})}, organisation=None),
        tenant=tenant,
    )
    with TestClient(create_app()) as api:  # consumer and relay running
        # A service records the read in its outbox (here the audit database's own outbox stands in for it).
        with unit_of_work(api.app.state.sessions, tenant) as uow:
            EventSource.of(ASSESSMENT).record_access(
                uow, principal=reader, subject="subj-br", resource="case/1", fields=["notes"], purpose="safeguarding",
                emergency_reason="Disclosure of a planned attack",
            )
        page = wait_until(lambda: api.get(queue_url(tenant), headers=officer(issuer, tenant)).json()["items"])

    [item] = page
    assert (item["actor"], item["subject"], item["reason"]) == ("worker-9", "subj-br", "Disclosure of a planned attack")
