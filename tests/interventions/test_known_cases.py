"""Interventions learns of cases from assessment's events, once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from harambee_common.events import Event
from tests.support.services import rows, running_service

TENANT = "ke-mombasa"


@pytest.fixture(scope="module")
def interventions(postgres, broker, issuer):
    with running_service("interventions", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


def test_case_opened_is_recorded_once_and_listed(interventions, issuer):
    client, database = interventions
    case_id, subject = str(uuid.uuid4()), str(uuid.uuid4())
    event = Event(type="case.opened", tenant=TENANT, topic="assessment.events",
                  source="/harambee/assessment", subject=case_id,
                  data={"case_id": case_id, "subject_ref": subject, "referral_id": str(uuid.uuid4()),
                        "opened_at": datetime.now(UTC).isoformat()})
    consumer = next(w for w in client.app.state.workers if hasattr(w, "apply"))
    assert consumer.apply(event.topic, event.headers(), event.value()) is True
    assert consumer.apply(event.topic, event.headers(), event.value()) is False
    assert rows(database.owner, "SELECT count(*) FROM known_cases WHERE case_id = :c", c=case_id)[0][0] == 1

    headers = issuer.headers(tenants={TENANT: ["case_worker"]}, scope="cases:read")
    listed = client.get(f"/v1/tenants/{TENANT}/cases", headers=headers).json()["items"]
    assert {"case_id": case_id, "subject_ref": subject}.items() <= next(
        c for c in listed if c["case_id"] == case_id).items()
    other = issuer.headers(tenants={"ke-nairobi": ["case_worker"]}, scope="cases:read")
    assert client.get(f"/v1/tenants/{TENANT}/cases", headers=other).status_code == 404
