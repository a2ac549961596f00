"""Information requests go to an agency only under an agreement; the agency sees its requests, never the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.assessment.flow import (
    AGENCY,
    TENANT,
    agency,
    information_agreement,
    open_case,
    outbox,
    staff,
)
from tests.assessment.support import consent_recorded, consent_withdrawn, deliver


def request(client, issuer, case_id: str, agreement_id: str, **overrides):
    body = {"organisation": AGENCY, "question": "Do you share the concern, and what do you know?",
            "data_categories": ["health_contacts"], "agreement_id": agreement_id, **overrides}
    return client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/information-requests",
                       headers=staff(issuer, "worker-1"), json=body)


def test_a_request_without_an_agreement_is_refused_and_the_refusal_recorded(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    response = request(client, issuer, case["id"], "00000000-0000-0000-0000-000000000001",
                       organisation="no-agreement-agency")
    assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"
    refused = [r.data for r in outbox(database, "agreement.refused", operation="information_requests")]
    assert any(d["party"] == {"kind": "organisation", "id": "no-agreement-agency"} for d in refused)
    assert not outbox(database, "information_request.sent", case_id=case["id"])


def test_a_request_for_categories_the_agreement_does_not_hold_is_refused(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    agreement = information_agreement(client)
    response = request(client, issuer, case["id"], agreement, data_categories=["health_contacts", "criminal_record"])
    assert response.status_code == 403
    assert "criminal_record" in response.json()["detail"]
    other_operation = information_agreement(client, "mombasa-school", operations=("submit_referrals",))
    assert request(client, issuer, case["id"], other_operation, organisation="mombasa-school").status_code == 403


def test_the_agency_lists_and_answers_its_requests_and_never_sees_the_case(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    agreement = information_agreement(client)
    sent = request(client, issuer, case["id"], agreement)
    assert sent.status_code == 201, sent.text
    request_id = sent.json()["id"]
    assert outbox(database, "information_request.sent", request_id=request_id)

    inbox = client.get(f"/v1/tenants/{TENANT}/information-requests/addressed", headers=agency(issuer))
    assert inbox.status_code == 200, inbox.text
    mine = [r for r in inbox.json()["items"] if r["id"] == request_id]
    assert mine and "case_id" not in mine[0] and case["subject_ref"] not in inbox.text

    # Another agency's system sees nothing of it, even with an agreement of its own.
    information_agreement(client, "another-agency")
    other = client.get(f"/v1/tenants/{TENANT}/information-requests/addressed", headers=agency(issuer, "another-agency"))
    assert other.status_code == 200 and request_id not in other.text
    url = f"/v1/tenants/{TENANT}/information-requests/addressed/{request_id}"
    assert client.post(f"{url}/answer", headers=agency(issuer, "another-agency"),
                       json={"shares_concern": "yes"}).status_code == 404
    # Nor may an agency read the case itself: to it, there is no such case.
    assert client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=agency(issuer)).status_code == 404

    answered = client.post(f"{url}/answer", headers=agency(issuer),
                           json={"shares_concern": "yes", "knowledge": "Seen twice at the clinic.",
                                 "attachments": ["clinic-record-77"]})
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered" and answered.json()["shares_concern"] == "yes"
    assert client.post(f"{url}/answer", headers=agency(issuer), json={"shares_concern": "no"}).status_code == 409
    [event] = outbox(database, "information_request.answered", request_id=request_id)
    assert "Seen twice" not in str(event.data)  # what the agency knows stays in assessment

    seen = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}/information-requests",
                      headers=staff(issuer, "worker-1"))
    assert seen.json()["items"][0]["knowledge"] == "Seen twice at the clinic."


def test_bad_answers_are_problems(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    agreement = information_agreement(client)
    request_id = request(client, issuer, case["id"], agreement).json()["id"]
    url = f"/v1/tenants/{TENANT}/information-requests/addressed/{request_id}/answer"
    response = client.post(url, headers=agency(issuer), json={"shares_concern": "maybe"})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert request(client, issuer, case["id"], agreement, due_on="2001-01-01").status_code == 422


def test_unanswered_requests_past_their_due_date_are_listed_as_overdue(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    agreement = information_agreement(client)
    today = datetime.now(UTC).date()
    request_id = request(client, issuer, case["id"], agreement, due_on=str(today + timedelta(days=3))).json()["id"]
    url = f"/v1/tenants/{TENANT}/information-requests?overdue=true"
    assert request_id not in client.get(url, headers=staff(issuer, "worker-1")).text
    client.app.state.clock = lambda: datetime.now(UTC) + timedelta(days=4)
    try:
        overdue = client.get(url, headers=staff(issuer, "worker-1")).json()["items"]
        assert any(r["id"] == request_id and r["overdue"] for r in overdue)
        late = client.get(f"/v1/tenants/{TENANT}/information-requests/addressed?overdue=true", headers=agency(issuer))
        assert request_id in late.text
    finally:
        del client.app.state.clock


def test_an_agency_reads_a_summary_only_under_an_agreement_and_only_of_cases_it_was_asked_about(assessment, issuer):
    client, database = assessment
    asked, other = open_case(client, database), open_case(client, database)
    agreement = information_agreement(client, "summary-agency")
    sent = request(client, issuer, asked["id"], agreement, organisation="summary-agency")
    assert sent.status_code == 201, sent.text
    reader = issuer.headers(tenants={TENANT: ["partner"]}, scope="cases:read", org="summary-agency")
    url = f"/v1/tenants/{TENANT}/cases/{{}}/summary"
    assert client.get(url.format(asked["id"]), headers=reader).status_code == 403  # no read_case_summary yet
    information_agreement(client, "summary-agency", operations=("read_case_summary",))
    summary = client.get(url.format(asked["id"]), headers=reader)
    assert summary.status_code == 200 and set(summary.json()) == {"case_id", "status", "opened_at",
                                                                   "latest_outcome", "decided_at"}
    assert client.get(url.format(other["id"]), headers=reader).status_code == 404


def test_a_withdrawn_persons_requests_close_for_the_agency(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    agreement = information_agreement(client)
    request_id = request(client, issuer, case["id"], agreement).json()["id"]
    recorded = consent_recorded(TENANT, case["subject_ref"])
    assert deliver(client, recorded) and deliver(client, consent_withdrawn(recorded))
    url = f"/v1/tenants/{TENANT}/information-requests/addressed"
    assert request_id not in client.get(url, headers=agency(issuer)).text
    assert client.get(f"{url}/{request_id}", headers=agency(issuer)).status_code == 404
    answer = client.post(f"{url}/{request_id}/answer", headers=agency(issuer), json={"shares_concern": "yes"})
    assert answer.status_code == 409


def disclosed(database, actor: str, resource: str) -> list[list[str]]:
    """The fields each access record of a partner's read of a resource says were disclosed."""
    return [r.data["fields"] for r in outbox(database, "access.recorded", actor=actor, resource=resource)]


def test_the_agency_sees_only_the_fields_its_agreement_names_and_the_disclosure_is_recorded(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    org = "answers-only-agency"  # its agreement names the answer's fields, not the question
    agreement = information_agreement(client, org, fields=("shares_concern", "attachments"))
    request_id = request(client, issuer, case["id"], agreement, organisation=org).json()["id"]
    url = f"/v1/tenants/{TENANT}/information-requests/addressed"
    [seen] = [r for r in client.get(url, headers=agency(issuer, org)).json()["items"] if r["id"] == request_id]
    assert seen["question"] is None and seen["status"] == "open" and seen["due_on"]  # the frame is always sent
    frame = ["data_categories", "due_on", "organisation", "request_id", "requested_at", "status"]
    resource = f"information-request/{request_id}"
    assert disclosed(database, f"{org}-system", resource) == [frame]
    answered = client.post(f"{url}/{request_id}/answer", headers=agency(issuer, org),
                           json={"shares_concern": "yes", "knowledge": "Seen at the clinic.", "attachments": ["r-1"]})
    assert answered.status_code == 200, answered.text
    assert (answered.json()["shares_concern"], answered.json()["attachments"]) == ("yes", ["r-1"])
    assert answered.json()["knowledge"] is None and answered.json()["question"] is None
    assert sorted([*frame, "answered_at", "attachments", "shares_concern"]) in disclosed(
        database, f"{org}-system", resource)
    # The county's staff see all of it.
    staff_view = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}/information-requests",
                            headers=staff(issuer, "worker-1")).json()["items"][0]
    assert staff_view["question"] and staff_view["knowledge"] == "Seen at the clinic."


def test_a_partners_case_summary_is_cut_to_its_agreements_fields(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    org = "status-only-agency"
    request(client, issuer, case["id"], information_agreement(client, org), organisation=org)  # it was asked
    information_agreement(client, org, operations=("read_case_summary",), fields=("status",))
    reader = issuer.headers(tenants={TENANT: ["partner"]}, scope="cases:read", org=org, sub=f"{org}-reader")
    summary = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}/summary", headers=reader)
    assert summary.status_code == 200, summary.text
    assert summary.json() == {"case_id": case["id"], "status": "open", "opened_at": None, "latest_outcome": None,
                              "decided_at": None}
    assert disclosed(database, f"{org}-reader", f"case/{case['id']}/summary") == [["case_id", "status"]]


def test_a_summary_under_an_agreement_requiring_consent_waits_for_consent_naming_the_agency(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    org = "consent-bound-agency"
    request(client, issuer, case["id"], information_agreement(client, org), organisation=org)
    information_agreement(client, org, operations=("read_case_summary",), fields=("status",), consent_required=True)
    reader = issuer.headers(tenants={TENANT: ["partner"]}, scope="cases:read", org=org, sub=f"{org}-reader")
    url = f"/v1/tenants/{TENANT}/cases/{case['id']}/summary"

    def refused() -> bool:
        response = client.get(url, headers=reader)
        return response.status_code == 403 and response.json()["type"].endswith("/consent-required")

    assert refused()
    decisions = outbox(database, "agreement.refused", operation="read_case_summary", actor=f"{org}-reader")
    assert decisions and decisions[-1].data["reason"] == "consent required and not recorded"
    assert not disclosed(database, f"{org}-reader", f"case/{case['id']}/summary")
    # A consent naming another organisation does not count; one naming this one does, until withdrawn.
    assert deliver(client, consent_recorded(TENANT, case["subject_ref"], purposes=("information_sharing",),
                                            recipient_organisations=("some-other-agency",)))
    assert refused()
    naming = consent_recorded(TENANT, case["subject_ref"], purposes=("information_sharing",),
                              recipient_organisations=(org,))
    assert deliver(client, naming)
    assert client.get(url, headers=reader).json()["status"] == "open"
    assert deliver(client, consent_withdrawn(naming))
    assert refused()


def test_a_request_under_an_agreement_requiring_consent_goes_only_with_consent_naming_the_agency(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    org = "consent-bound-health"
    agreement = information_agreement(client, org, consent_required=True)
    refused = request(client, issuer, case["id"], agreement, organisation=org)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/consent-required")
    assert [d for d in outbox(database, "agreement.refused", operation="information_requests")
            if d.data["party"] == {"kind": "organisation", "id": org}]
    assert not outbox(database, "information_request.sent", case_id=case["id"])

    naming = consent_recorded(TENANT, case["subject_ref"], purposes=("information_sharing",),
                              recipient_organisations=(org,))
    assert deliver(client, naming)
    sent = request(client, issuer, case["id"], agreement, organisation=org)
    assert sent.status_code == 201, sent.text
    url = f"/v1/tenants/{TENANT}/information-requests/addressed"
    assert client.get(f"{url}/{sent.json()['id']}", headers=agency(issuer, org)).json()["question"]

    # Withdrawn (sharing only: the case is still worked), the question no longer reaches the agency.
    assert deliver(client, consent_withdrawn(naming))
    [listed] = [r for r in client.get(url, headers=agency(issuer, org)).json()["items"] if r["id"] == sent.json()["id"]]
    assert listed["question"] is None and listed["status"] == "open"
    one = client.get(f"{url}/{sent.json()['id']}", headers=agency(issuer, org))
    assert one.status_code == 403 and one.json()["type"].endswith("/consent-required")
    answered = client.post(f"{url}/{sent.json()['id']}/answer", headers=agency(issuer, org),
                           json={"shares_concern": "no"})
    assert answered.status_code == 200 and answered.json()["question"] is None
