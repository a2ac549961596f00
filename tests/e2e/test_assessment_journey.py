"""Lifecycle steps 3 to 6 as a county lives them, every process running, everything through the gateway:
referral, screening, an information request answered by a health agency's system, an assessment
submitted by an assessor and approved by a second person, a quorate panel that adopts, consent to
support recorded at intake, and `case.consented` in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.e2e.helpers import REFERRAL, TENANT, accept, audit_entries, case_for, eventually, oauth_client

ASSESSMENT = f"/assessment/v1/tenants/{TENANT}"


def subject_of(client) -> str:
    """The caller's subject, as services see it (`/me`)."""
    return client.get(f"{ASSESSMENT}/me").json()["subject"]


def test_a_case_goes_from_referral_to_consented_support(stack):
    partner = oauth_client(stack, "cso")
    intake_officer = oauth_client(stack, "intake-officer")
    manager = oauth_client(stack, "mombasa-case-manager")
    assessor = oauth_client(stack, "mombasa-assessor")
    chair = oauth_client(stack, "mombasa-panel-chair")
    health = oauth_client(stack, "mombasa-health-agency-system")
    compliance = oauth_client(stack, "mombasa-compliance")

    created = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
    assert created.status_code == 201, created.text
    accept(intake_officer, created.json()["id"])
    case = eventually(lambda: case_for(manager, created.json()["id"]))
    case_id, subject = case["id"], case["subject_ref"]

    # Step 3: the health agency is asked under the demo agreement; its own system answers.
    asked = manager.post(f"{ASSESSMENT}/cases/{case_id}/information-requests",
                         json={"organisation": "mombasa-county-health", "data_categories": ["safeguarding_concern"],
                               "question": "Is the young person known to you, and do you share the concern?"})
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    inbox = health.get(f"{ASSESSMENT}/information-requests/addressed").json()["items"]
    assert request_id in {r["id"] for r in inbox} and subject not in str(inbox)
    answered = health.post(f"{ASSESSMENT}/information-requests/addressed/{request_id}/answer",
                           json={"shares_concern": "yes", "knowledge": "Two clinic visits after a fight at school."})
    assert answered.status_code == 200, answered.text
    assert health.get(f"{ASSESSMENT}/cases/{case_id}").status_code == 404  # as if there were no case

    # Step 4: an assessor assigned to the case assesses it; a second person approves.
    assigned = manager.post(f"{ASSESSMENT}/cases/{case_id}/assignments", json={"assessor": subject_of(assessor)})
    assert assigned.status_code == 201, assigned.text
    frameworks = assessor.get(f"{ASSESSMENT}/frameworks").json()["items"]
    concerns = next(f for f in frameworks if f["code"] == "concerns-and-strengths")
    draft = assessor.post(f"{ASSESSMENT}/cases/{case_id}/assessments", json={"framework_id": concerns["id"]})
    assert draft.status_code == 201, draft.text
    assessment_id = draft.json()["id"]
    contributed = assessor.post(f"{ASSESSMENT}/assessments/{assessment_id}/contributions",
                                json={"ratings": {"social_online": "present", "strength_family": "present"},
                                      "note": "Mother is worried and wants help."})
    assert contributed.status_code == 201, contributed.text
    submitted = assessor.post(f"{ASSESSMENT}/assessments/{assessment_id}/submit",
                              json={"summary": "Online contacts pull him in; his family holds him.",
                                    "needs": ["online_exposure", "education"],
                                    "management_plan": "Mentoring, online safety, school re-engagement."})
    assert submitted.status_code == 200, submitted.text
    approved = manager.post(f"{ASSESSMENT}/assessments/{assessment_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text

    # Step 5: a quorate panel (three agencies) adopts the case.
    chair_subject = subject_of(chair)
    review = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    meeting = manager.post(f"{ASSESSMENT}/panel-meetings", json={
        "held_on": datetime.now(UTC).date().isoformat(), "chair": chair_subject, "agenda": [case_id],
        "attendees": [{"person": chair_subject, "agency": "mombasa-county-programme"},
                      {"person": "health-lead", "agency": "mombasa-county-health"},
                      {"person": "cso-lead", "agency": "mombasa-youth-cso"}]})
    assert meeting.status_code == 201 and meeting.json()["quorate"], meeting.text
    agenda = chair.get(f"{ASSESSMENT}/panel-meetings/{meeting.json()['id']}/agenda").json()["items"]
    assert agenda[0]["assessment"]["id"] == assessment_id
    decided = chair.post(f"{ASSESSMENT}/panel-meetings/{meeting.json()['id']}/decisions",
                         json={"case_id": case_id, "outcome": "adopt", "next_review_on": review,
                               "reasons": "Behaviour of concern shared by school and health; family asks for support."})
    assert decided.status_code == 201, decided.text
    assert manager.get(f"{ASSESSMENT}/cases/{case_id}").json()["status"] == "awaiting_consent"

    # Step 6: the parent's consent to support is recorded at intake; the case becomes consented.
    consent = intake_officer.post(f"/intake/v1/tenants/{TENANT}/subjects/{subject}/consents", json={
        "given_by": "parent", "giver_name": "Parent of the young person", "purposes": ["support"],
        "recipients": ["Mombasa County referral programme"], "method": "written",
        "given_at": datetime.now(UTC).isoformat(), "evidence": "Signed form MSA-2026-117"})
    assert consent.status_code == 201, consent.text
    eventually(lambda: manager.get(f"{ASSESSMENT}/cases/{case_id}").json()["status"] == "consented")

    def audited():
        types = {e["type"] for e in audit_entries(compliance, subject=subject)
                 if e["data"].get("case_id") == case_id or e["data"].get("request_id") == request_id}
        wanted = {"information_request.sent", "information_request.answered", "assessment.approved", "case.adopted",
                  "case.consented"}
        return types if wanted <= types else None

    eventually(audited)
    consented = [e for e in audit_entries(compliance, subject=subject) if e["type"] == "case.consented"]
    assert consented[0]["data"]["needs"] == ["education", "online_exposure"]
    for entry in audit_entries(compliance, subject=subject):
        assert "clinic visits" not in str(entry) and "Juma" not in str(entry)
