"""A service under test reads only what is published while it runs, not what earlier modules left.

The session's broker is shared by every test module; without this, a module's exact counts would hold
only in the order the modules happen to run.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from harambee_common import kafka
from harambee_common.catalogue.assessment import CaseOpened
from harambee_common.components import ASSESSMENT
from harambee_common.event_source import EventSource
from harambee_common.events import Event
from tests.support.services import rows, running_service

TENANT = f"ke-isolation-{uuid.uuid4().hex[:6]}"


def case_opened(subject: uuid.UUID) -> Event:
    """Assessment's `case.opened` for a new case of the person."""
    data = CaseOpened(case_id=uuid.uuid4(), subject_ref=subject, referral_id=uuid.uuid4(), opened_at=datetime.now(UTC))
    return EventSource.of(ASSESSMENT).event(data, tenant=TENANT, subject=str(subject))


def send(bootstrap: str, event: Event) -> None:
    """Publishes the event as a relay would."""
    kafka.ensure_topics(bootstrap)
    producer = kafka.producer(bootstrap)
    try:
        producer.send(event.topic, key=event.key.encode(), value=event.value(), headers=event.headers()).get(timeout=10)
    finally:
        producer.close(timeout=5)


def test_a_service_applies_none_of_what_was_published_before_it_started(postgres: Any, broker: Any, issuer: Any):
    subject = uuid.uuid4()  # one key: both events on one partition, the earlier one read first
    earlier, later = case_opened(subject), case_opened(subject)
    send(broker.bootstrap, earlier)  # as an earlier module's service would have
    with running_service("interventions", postgres=postgres, broker=broker, issuer=issuer) as (_client, database):
        send(broker.bootstrap, later)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not rows(
                database.owner, "SELECT 1 FROM known_cases WHERE case_id = :c", c=later.data["case_id"]):
            time.sleep(0.2)
        known = rows(database.owner, "SELECT case_id FROM known_cases WHERE subject_ref = :s", s=str(subject))
    assert [str(k.case_id) for k in known] == [later.data["case_id"]]
