"""Attacks on the event bus: anyone who can reach the broker can write to it, so only what a component
signed with its own key, on its own topic, is applied — by every service, and by audit above all.

Each attack is delivered exactly as the broker would hand it over (the consumer's `apply`), then the
genuine event shows that the same path does apply what its producer signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from harambee_audit.consumers import log_subscription
from harambee_audit.signing import CheckpointSigner
from harambee_common import signing
from harambee_common.agreements import version_gaps
from harambee_common.catalogue import AccessRecorded
from harambee_common.components import ASSESSMENT, GATEWAY, INTAKE, INTERVENTIONS
from harambee_common.consumer import EventConsumer
from harambee_common.db import create_db_engine, session_factory
from harambee_common.event_source import EventSource
from harambee_common.events import Event
from harambee_common.migrations import upgrade
from tests.intake.helpers import FULL_REFERRAL, Desk, agree, consumer, submit
from tests.support.agreements import agreement_event, agreement_view
from tests.support.event_keys import signer_of
from tests.support.services import rows, running_service

ORG = "mombasa-youth-cso"
Headers = list[tuple[str, bytes]]


def unsigned(event: Event) -> Headers:
    """The event's headers with its signature taken off (what a forger without a key can send)."""
    return [(n, v) for n, v in event.headers() if n not in (signing.SIGNATURE_HEADER, signing.KEY_ID_HEADER)]


def signed_by(signer: signing.EventSigner, event: Event) -> Headers:
    """The event's headers signed with another key (a forger who holds that component's key)."""
    bare = unsigned(event)
    return [*bare, *signer.sign(dict(bare), event.value())]


def apply(client: Any, event: Event, headers: Headers) -> bool:
    """Hands a message to intake's consumer as the broker would."""
    return consumer(client).apply(event.topic, headers, event.value())


def parked(url: str, event: Event) -> list[str]:
    """The reasons a consumer parked messages claiming this event's id."""
    return [r.error for r in rows(url, "SELECT error FROM processed_events WHERE event_id LIKE :i AND "
                                  "outcome = 'failed'", i=f"unverified:{event.id}:%")]


@pytest.fixture(scope="module")
def intake(postgres: Any, broker: Any, issuer: Any) -> Iterator[tuple[Any, Any]]:
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


def refused(desk: Desk) -> bool:
    """Whether the partner's referral is refused for want of an agreement in force."""
    response = desk.client.post(f"{desk.base}/referrals", json=FULL_REFERRAL, headers=desk.partner(ORG))
    assert response.status_code in (201, 403), response.text
    return response.status_code == 403


def test_a_forged_activation_with_a_huge_version_changes_nothing_and_the_real_suspension_applies(intake, issuer):
    client, database = intake
    desk = Desk(client, issuer, tenant=f"ke-test-{uuid.uuid4().hex[:8]}")
    agreement = agree(client, desk.tenant, ORG)
    assert not refused(desk)
    forged = agreement_event({**agreement, "version": 10**9, "status": "active"})

    # Unsigned; signed with intake's own key; and intake's key on its own topic, where it makes no agreements.
    assert apply(client, forged, unsigned(forged)) is False
    assert apply(client, forged, signed_by(signer_of(INTAKE), forged)) is False
    on_intake = Event(type=forged.type, tenant=forged.tenant, topic=INTAKE.topic, source=INTAKE.source,
                      subject=forged.subject, data=forged.data)
    assert apply(client, on_intake, on_intake.headers()) is False

    [(version, status)] = rows(database.owner, "SELECT version, status FROM agreement_copies WHERE agreement_id = :a",
                               a=agreement["id"])
    assert (version, status) == (1, "active")
    assert set(parked(database.owner, forged)) == {
        "UnverifiedEvent: unsigned", "UnverifiedEvent: signed by intake, which does not publish on registry.events"}
    assert parked(database.owner, on_intake) == [
        "UnverifiedEvent: agreement.activated is published on registry.events, not intake.events"]

    agree(client, desk.tenant, ORG, agreement_id=agreement["id"], version=2, status="suspended")
    assert refused(desk)


def test_a_signed_version_jump_waits_for_the_registry_to_confirm_it(intake, issuer):
    client, database = intake
    desk = Desk(client, issuer, tenant=f"ke-test-{uuid.uuid4().hex[:8]}")
    agreement = agree(client, desk.tenant, ORG)
    woken: list[bool] = []
    version_gaps.listen(listener := lambda: woken.append(True))
    try:
        jump = agreement_event({**agreement, "version": 7, "status": "active"})
        assert apply(client, jump, jump.headers()) is True  # the gateway's own event: recorded, not parked
    finally:
        version_gaps.forget(listener)
    assert woken == [True]  # the agreement sync asks the registry (tests/common/test_agreement_sync.py)
    [version] = rows(database.owner, "SELECT version FROM agreement_copies WHERE agreement_id = :a", a=agreement["id"])
    assert version == (1,)


def transfer_accepted(sender: Desk, receiver: Desk, subject: str, agreement: dict[str, Any]) -> Event:
    """Assessment's `case.transfer_accepted`, raised in the receiving county under the sender's agreement."""
    data = {"transfer_id": str(uuid.uuid4()), "case_id": str(uuid.uuid4()), "received_case_id": str(uuid.uuid4()),
            "subject_ref": subject, "from": sender.tenant, "to": receiver.tenant, "reason": "relocation",
            "actor": f"case_worker@{receiver.tenant}", "opened_at": "2025-01-01T00:00:00+00:00",
            "agreement_id": agreement["id"], "agreement_version": agreement["version"]}
    return Event(type="case.transfer_accepted", tenant=receiver.tenant, topic=ASSESSMENT.topic,
                 source=ASSESSMENT.source, subject=subject, data=data)


def test_a_forged_transfer_acceptance_moves_no_identity(intake, issuer):
    client, database = intake
    sender, receiver = Desk(client, issuer), Desk(client, issuer)
    view = agreement_view(tenant=sender.tenant, parties=[("tenant", receiver.tenant)], operations=["transfer_cases"])
    event = agreement_event(view)
    assert apply(client, event, event.headers())
    referral = submit(client, sender.partner(), FULL_REFERRAL, tenant=sender.tenant)
    subject = sender.subject_of(referral["id"])
    forged = transfer_accepted(sender, receiver, subject, view)

    for headers in (unsigned(forged), signed_by(signer_of(INTAKE), forged), signed_by(signer_of(INTERVENTIONS),
                                                                                          forged)):
        assert apply(client, forged, headers) is False
        [(tenant,)] = rows(database.owner, "SELECT tenant_id FROM subjects WHERE id = :s", s=subject)
        assert tenant == sender.tenant
    tampered = signed_by(signer_of(ASSESSMENT), forged)
    other = transfer_accepted(sender, receiver, subject, view)  # to another case: the value differs
    assert apply(client, other, tampered) is False  # the genuine signature of one value, over another
    assert set(parked(database.owner, forged)) == {
        "UnverifiedEvent: unsigned", "UnverifiedEvent: signed by intake, which does not publish on assessment.events",
        "UnverifiedEvent: signed by interventions, which does not publish on assessment.events",
        "UnverifiedEvent: bad signature"}

    # The forgeries reused the genuine event's id: it is still applied, and the person moves.
    assert apply(client, forged, forged.headers()) is True
    [(tenant,)] = rows(database.owner, "SELECT tenant_id FROM subjects WHERE id = :s", s=subject)
    assert tenant == receiver.tenant


@pytest.fixture(scope="module")
def audit_consumer(postgres: Any) -> Iterator[tuple[EventConsumer, str]]:
    database = postgres.provision("audit")
    upgrade(package="harambee_audit", url=database.owner)
    engine = create_db_engine(database.app, pool_size=2)
    subscription = log_subscription(signer=CheckpointSigner.generate(), checkpoint_every=1000)
    yield EventConsumer(subscription=subscription, sessions=session_factory(engine), bootstrap="127.0.0.1:1"), \
        database.owner
    engine.dispose()


def access_recorded(tenant: str, subject: str) -> Event:
    """Assessment's record of a read, the kind of entry a forger would plant (or a reader hide behind)."""
    data = AccessRecorded(actor="worker-1", client_id="case-portal", organisation=None, roles=["case_worker"],
                          resource=f"case:{uuid.uuid4()}", fields=["status"], purpose="assessment")
    return EventSource.of(ASSESSMENT).event(data, tenant=tenant, subject=subject)


def test_a_forged_event_never_becomes_an_audit_entry(audit_consumer):
    consumer, owner = audit_consumer
    tenant = f"ke-test-{uuid.uuid4().hex[:8]}"
    forged = access_recorded(tenant, "subj-forged")
    agreement = agreement_event(agreement_view(tenant=tenant, parties=[("tenant", "ke-national")],
                                               operations=["read_audit_log"], version=10**9))
    attempts = [(forged, unsigned(forged)), (forged, signed_by(signer_of(INTAKE), forged)),
                (agreement, unsigned(agreement)), (agreement, signed_by(signer_of(INTERVENTIONS), agreement))]
    for event, headers in attempts:
        assert consumer.apply(event.topic, headers, event.value()) is False
    entries = rows(owner, "SELECT event_id FROM entries WHERE tenant_id = :t", t=tenant)
    assert entries == []
    assert not rows(owner, "SELECT 1 FROM agreement_copies WHERE tenant_id = :t", t=tenant)
    assert len(rows(owner, "SELECT 1 FROM processed_events WHERE tenant_id = :t AND outcome = 'failed' "
                    "AND error LIKE 'UnverifiedEvent:%'", t=tenant)) == len(attempts)

    genuine = access_recorded(tenant, "subj-genuine")
    assert consumer.apply(genuine.topic, genuine.headers(), genuine.value()) is True
    assert [r.event_id for r in rows(owner, "SELECT event_id FROM entries WHERE tenant_id = :t", t=tenant)] == [
        genuine.id]


def test_a_key_no_component_holds_a_duplicated_attribute_and_a_changed_time_are_refused():
    keys = signing.installed()
    event = agreement_event(agreement_view(tenant="ke-mombasa", parties=[], operations=[]))
    stranger = signing.generate(GATEWAY)  # a gateway key, but not the one every consumer pins
    with pytest.raises(signing.UnverifiedEvent, match="no component holds"):
        keys.verify(event.topic, signed_by(stranger, event), event.value())
    doubled = [*event.headers(), ("ce_type", b"agreement.suspended")]
    with pytest.raises(signing.UnverifiedEvent, match="appears twice"):
        keys.verify(event.topic, doubled, event.value())
    later = [(n, datetime.now(UTC).isoformat().encode() if n == "ce_time" else v) for n, v in event.headers()]
    with pytest.raises(signing.UnverifiedEvent, match="bad signature"):
        keys.verify(event.topic, later, event.value())
    assert keys.verify(event.topic, event.headers(), event.value()) == GATEWAY
