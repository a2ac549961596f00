"""A tenant's settings and coded lists change on the record: each change kept with the value it replaced,
and published with codes and settings only."""

from __future__ import annotations

import json

import pytest

from tests.intake.helpers import Desk, outbox
from tests.support.services import running_service

CONTACT = {"name": "County Safeguarding Lead", "role": "Safeguarding lead", "phone": "+254700000111",
           "instructions": "Call first; if there is no answer, go to the county office in person."}


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


def put(desk: Desk, path: str, body: dict) -> dict:
    etag = desk.get(path).headers["etag"]
    response = desk.client.put(f"{desk.base}{path}", json=body, headers={**desk.officer(), "If-Match": etag})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_setting_change_is_published_with_the_value_it_replaced_and_kept_in_the_history(intake, desk):
    _, database = intake
    put(desk, "/settings/escalation_contact", CONTACT)
    put(desk, "/settings/escalation_contact", {**CONTACT, "phone": "+254700000222"})
    put(desk, "/settings/retention", {"no_further_action_days": 30, "signpost_days": 60, "escalate_days": None})

    events = [e.data for e in outbox(database.owner, "tenant_setting.changed") if e.subject.startswith("setting:")
              and e.data["change_id"] in {c["id"] for c in desk.get("/settings/history").json()["items"]}]
    first, second, retention = events
    assert first["previous"] is None and first["value"]["phone"] == "+254700000111" and first["version"] == 1
    assert second["previous"]["phone"] == "+254700000111" and second["value"]["phone"] == "+254700000222"
    assert retention["previous"] == {"no_further_action_days": 90, "signpost_days": 180, "escalate_days": None}
    assert retention["value"]["no_further_action_days"] == 30 and retention["actor"] == "officer-1"
    assert "county office" not in json.dumps(events)  # the officer's free text stays in intake

    history = desk.get("/settings/history", name="escalation_contact").json()["items"]
    assert [c["version"] for c in history] == [2, 1]
    assert history[0]["previous"] == {**CONTACT, "email": None} and history[0]["value"]["phone"] == "+254700000222"
    assert history[1]["previous"] is None and history[0]["changed_by"] == "officer-1"
    compliance = desk.issuer.headers(tenants={desk.tenant: ["compliance_officer"]}, scope="audit:read")
    assert desk.get("/settings/history", headers=compliance).status_code == 200
    refused = desk.get("/settings/history", headers=desk.partner())
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"


def test_a_coded_list_replaced_is_published_with_its_codes_and_kept_with_its_labels(intake, desk):
    _, database = intake
    put(desk, "/vocabularies/consent_purposes", {"entries": [{"code": "support", "label": "Support"},
                                                             {"code": "mentoring", "label": "Mentoring"}]})
    [change] = desk.get("/settings/history", kind="vocabulary").json()["items"]
    assert change["name"] == "consent_purposes" and change["version"] == 1
    assert {e["code"] for e in change["previous"]} >= {"support", "assessment", "follow_up"}
    assert change["value"] == [{"code": "support", "label": "Support"}, {"code": "mentoring", "label": "Mentoring"}]
    [event] = outbox(database.owner, "vocabulary.replaced", change_id=change["id"])
    assert event.data["codes"] == ["support", "mentoring"] and "assessment" in event.data["previous_codes"]
    assert "Mentoring" not in json.dumps(event.data)


def test_the_history_pages_with_cursors_it_issued_only(desk):
    for days in (10, 20, 30):
        put(desk, "/settings/rights_deadlines", {"access_days": days, "rectification_days": 7, "erasure_days": 7})
    first = desk.get("/settings/history", limit=2).json()
    assert [c["value"]["access_days"] for c in first["items"]] == [30, 20] and first["next_cursor"]
    rest = desk.get("/settings/history", limit=2, cursor=first["next_cursor"]).json()
    assert [c["value"]["access_days"] for c in rest["items"]] == [10] and rest["next_cursor"] is None
    forged = desk.get("/settings/history", cursor="not-a-cursor")
    assert forged.status_code == 422 and forged.headers["content-type"] == "application/problem+json"
