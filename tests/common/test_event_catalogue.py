"""The event catalogue: producers build typed data, consumers apply only data that fits, and the page is current."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from harambee_common import catalogue
from harambee_common.auth import Principal, TenantPrincipal
from harambee_common.catalogue import CATALOGUE, AccessRecorded
from harambee_common.catalogue.assessment import CaseOpened
from harambee_common.catalogue.intake import ReferralAccepted
from harambee_common.catalogue.reference import render
from harambee_common.components import ASSESSMENT, INTAKE
from harambee_common.consumer import EventConsumer, Subscription
from harambee_common.db import UnitOfWork, create_db_engine, session_factory
from harambee_common.event_source import EventSource
from harambee_common.events import Event, MalformedEvent, from_message
from harambee_common.migrations import upgrade
from tests.support.services import rows

ROOT = Path(__file__).resolve().parents[2]
TENANT = "ke-mombasa"


def accepted(**overrides) -> ReferralAccepted:
    fields = {"referral_id": uuid.uuid4(), "subject_ref": uuid.uuid4(), "source_type": "education",
              "organisation": None, "received_at": datetime(2026, 12, 1, 9, tzinfo=UTC),
              "accepted_at": datetime(2026, 12, 2, 9, tzinfo=UTC)}
    return ReferralAccepted(**{**fields, **overrides})


def test_the_reference_page_is_generated_from_the_catalogue_and_current():
    page = (ROOT / "docs" / "events.md").read_text()
    assert page == render(), "docs/events.md is stale: python -m harambee_common.catalogue > docs/events.md"


def test_every_catalogued_event_and_field_says_what_it_means():
    for name, model in CATALOGUE.items():
        assert (model.__doc__ or "").strip(), f"{name} has no docstring"
        undocumented = [f for f, info in model.model_fields.items() if not info.description]
        assert not undocumented, f"{name}: fields without a meaning: {undocumented}"


def test_a_producer_cannot_misspell_a_field_or_leave_one_out():
    with pytest.raises(ValidationError):
        accepted(referal_id=uuid.uuid4())
    with pytest.raises(ValidationError):
        ReferralAccepted(referral_id=uuid.uuid4())


def test_an_event_source_publishes_on_its_own_topic_only():
    event = EventSource.of(INTAKE).event(accepted(), tenant=TENANT, subject="s-1")
    assert (event.type, event.topic, event.source) == ("referral.accepted", "intake.events", "/harambee/intake")
    decoded = from_message(event.topic, event.headers(), event.value())
    assert ReferralAccepted.of(decoded) == event.payload  # the wire form reads back as the same model
    with pytest.raises(ValueError, match=r"published on intake\.events"):
        EventSource.of(ASSESSMENT).event(accepted(), tenant=TENANT, subject="s-1")


def test_an_access_record_mentions_an_emergency_only_when_there_was_one():
    principal = TenantPrincipal(principal=Principal(subject="p-1", client_id="c-1", scopes=frozenset(),
                                                    tenants={TENANT: frozenset({"case_worker"})}, organisation=None),
                                tenant=TENANT)

    class Collect(UnitOfWork):
        def __init__(self) -> None:
            super().__init__(session=None, tenant=TENANT)  # type: ignore[arg-type]
            self.events: list[Event] = []

        def publish(self, event: Event) -> None:
            self.events.append(event)

    uow = Collect()
    source = EventSource.of(ASSESSMENT)
    source.record_access(uow, principal=principal, subject="s-1", resource="case:1", fields=["b", "a"],
                         purpose="case_management")
    source.record_access(uow, principal=principal, subject="s-1", resource="case:1", fields=["a"],
                         purpose="case_management", emergency_reason="risk to life")
    ordinary, emergency = (e.data for e in uow.events)
    assert "emergency" not in ordinary and "reason" not in ordinary and ordinary["fields"] == ["a", "b"]
    assert emergency["emergency"] is True and emergency["reason"] == "risk to life"
    assert all(AccessRecorded.of(e) for e in uow.events)


def test_a_consumer_validates_what_it_takes_from_the_catalogue_and_parks_what_does_not_fit(postgres):
    database = postgres.provision("assessment")
    upgrade(package="harambee_assessment", url=database.owner)
    engine = create_db_engine(database.app)
    applied: list[ReferralAccepted] = []

    def on_accepted(uow: UnitOfWork, event: Event) -> None:
        applied.append(ReferralAccepted.of(event))

    subscription = Subscription(name=f"catalogue-{uuid.uuid4().hex[:6]}", topics=(INTAKE.topic,),
                                handlers={ReferralAccepted: on_accepted})
    # apply() needs no broker: it is what the consumer does with each message it polls.
    consumer = EventConsumer(subscription=subscription, sessions=session_factory(engine), bootstrap="127.0.0.1:1")
    try:
        good = EventSource.of(INTAKE).event(accepted(), tenant=TENANT, subject="s-1")
        bad = Event(type="referral.accepted", tenant=TENANT, topic=INTAKE.topic, source="/harambee/intake",
                    subject="s-2", data={**good.data, "referral_id": "not-a-uuid"})
        stranger = Event(type="referral.teleported", tenant=TENANT, topic=INTAKE.topic, source="/harambee/intake",
                         subject="s-3", data={})
        everything = EventConsumer(subscription=Subscription(name=subscription.name + "-all", topics=(INTAKE.topic,),
                                                             handlers={}, fallback=on_accepted),
                                   sessions=session_factory(engine), bootstrap="127.0.0.1:1")
        # A type no component publishes is parked even by a consumer that takes every type (audit).
        assert everything.apply(stranger.topic, stranger.headers(), stranger.value()) is False
        assert consumer.apply(bad.topic, bad.headers(), bad.value()) is False
        assert consumer.apply(good.topic, good.headers(), good.value()) is True
        assert applied == [good.payload]
        for refused in (bad, stranger):
            parked = rows(database.owner, "SELECT outcome, error FROM processed_events WHERE event_id = :i",
                          i=refused.id)
            assert [(p.outcome, p.error) for p in parked] == [("failed", "MalformedEvent")]
    finally:
        engine.dispose()


def test_a_handled_type_reads_only_its_own_model():
    event = EventSource.of(ASSESSMENT).event(
        CaseOpened(case_id=uuid.uuid4(), subject_ref=uuid.uuid4(), referral_id=uuid.uuid4(),
                   opened_at=datetime.now(UTC)), tenant=TENANT, subject="s")
    with pytest.raises(MalformedEvent):
        ReferralAccepted.of(event)
    assert catalogue.validated(event).payload == event.payload
