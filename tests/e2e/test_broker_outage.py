"""A broker outage delays events; it never fails a user's request or loses or repeats an event."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harambee_stack.stack import Stack, free_ports
from tests.e2e.helpers import REFERRAL, TENANT, accept, audit_entries, case_for, eventually, oauth_client


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this test's own: the embedded broker keeps its log in memory, so a restart empties
    every topic, which would leave the other tests' consumers with positions past the new logs (a real
    Kafka cluster keeps its log through an outage)."""
    with Stack(state_dir=tmp_path_factory.mktemp("outage"), ports=free_ports(), ephemeral=True) as own:
        yield own


def test_referral_survives_a_broker_outage_and_arrives_exactly_once(stack):
    partner = oauth_client(stack, "cso")
    intake_officer = oauth_client(stack, "intake-officer")
    case_worker = oauth_client(stack, "case-worker")
    compliance = oauth_client(stack, "compliance")

    stack.stop_broker()
    try:
        response = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
        assert response.status_code == 201, response.text
        referral_id = response.json()["id"]
        accept(intake_officer, referral_id)  # screening works with the broker down too
        assert case_for(case_worker, referral_id) is None  # nothing can flow yet
    finally:
        stack.start_broker()

    case = eventually(lambda: case_for(case_worker, referral_id), timeout=90)
    subject = case["subject_ref"]

    def received_entries():
        found = [e for e in audit_entries(compliance, subject=subject, type="referral.received")
                 if e["data"].get("referral_id") == referral_id]
        return found or None

    eventually(received_entries, timeout=90)
    time.sleep(3)  # a duplicate would arrive right behind the original
    assert len(received_entries()) == 1
    response = case_worker.get(f"/assessment/v1/tenants/{TENANT}/cases", params={"referral_id": referral_id})
    assert len(response.json()["items"]) == 1
