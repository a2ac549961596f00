"""The panel decides on approved assessments with a quorum; adoption waits for consent to support."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.assessment.flow import (
    TENANT,
    approved_assessment,
    compliance,
    open_case,
    outbox,
    panel_member,
    quorate_meeting,
    staff,
)
from tests.assessment.support import (
    case_closed,
    consent_recorded,
    consent_withdrawn,
    deliver,
    plan_reviewed,
    repeat_referral,
    subject_merged,
)

ADOPT = {"outcome": "adopt", "reasons": "Shared concern; the family asks for help.", "next_review_on": "2027-03-10"}


def decide(client, headers, meeting_id: str, case_id: str, **body):
    return client.post(f"/v1/tenants/{TENANT}/panel-meetings/{meeting_id}/decisions", headers=headers,
                       json={"case_id": case_id, **(body or ADOPT)})


def test_a_decision_needs_an_approved_assessment_and_a_quorum(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    chair = panel_member(issuer, "member-0", write=True)
    meeting = quorate_meeting(client, issuer, [case["id"]])
    unassessed = decide(client, chair, meeting["id"], case["id"])
    assert unassessed.status_code == 409 and "approved assessment" in unassessed.json()["detail"]
    approved_assessment(client, issuer, case["id"])
    small = quorate_meeting(client, issuer, [case["id"]], agencies=2)
    assert small["quorate"] is False
    refused = decide(client, panel_member(issuer, "member-0", write=True), small["id"], case["id"])
    assert refused.status_code == 409 and refused.json()["type"].endswith("/no-quorum")
    missing_review = decide(client, chair, meeting["id"], case["id"], outcome="adopt", reasons="r")
    assert missing_review.status_code == 422
    stranger = decide(client, chair, meeting["id"], case["id"], **ADOPT, dissent=[{"member": "x", "reason": "r"}])
    assert stranger.status_code == 422 and stranger.json()["errors"][0]["member"] == "x"
    outsider = decide(client, panel_member(issuer, "not-attending", write=True), meeting["id"], case["id"])
    assert outsider.status_code == 404
    not_the_chair = decide(client, panel_member(issuer, "member-1", write=True), meeting["id"], case["id"])
    assert not_the_chair.status_code == 403


def test_adoption_waits_for_consent_to_support_then_tells_interventions(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    approved = approved_assessment(client, issuer, case["id"], needs=("education", "online_exposure"))
    meeting = quorate_meeting(client, issuer, [case["id"]])
    adopted = decide(client, panel_member(issuer, "member-0", write=True), meeting["id"], case["id"], **ADOPT,
                     dissent=[{"member": "member-2", "reason": "Would rather signpost to education services."}])
    assert adopted.status_code == 201, adopted.text
    [event] = outbox(database, "case.adopted", case_id=case["id"])
    assert event.data["dissent_count"] == 1 and "signpost" not in str(event.data)
    worker = staff(issuer, "worker-1")
    view = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=worker).json()
    assert view["status"] == "awaiting_consent" and view["reassessment_due_on"] == "2027-03-10"

    assert deliver(client, consent_recorded(TENANT, case["subject_ref"], purposes=("follow_up",)))
    assert not outbox(database, "case.consented", case_id=case["id"])
    recorded = consent_recorded(TENANT, case["subject_ref"])
    assert deliver(client, recorded)
    [consented] = outbox(database, "case.consented", case_id=case["id"])
    assert consented.data["needs"] == ["education", "online_exposure"]
    assert consented.data["assessment_id"] == approved["id"] and consented.data["given_by"] == "parent"
    assert client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=worker).json()["status"] == "consented"

    # Withdrawal stops everything at once; only compliance reads the case from then on.
    assert deliver(client, consent_withdrawn(recorded))
    assert outbox(database, "case.withdrawn", case_id=case["id"])
    assert client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=worker).status_code == 404
    assert client.get(f"/v1/tenants/{TENANT}/assessments/{approved['id']}", headers=worker).status_code == 404
    assert client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}/decisions", headers=worker).status_code == 404
    agenda = client.get(f"/v1/tenants/{TENANT}/panel-meetings/{meeting['id']}/agenda",
                        headers=panel_member(issuer, "member-1"))
    assert agenda.status_code == 200 and case["id"] not in agenda.text
    as_compliance = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=compliance(issuer))
    assert as_compliance.status_code == 200 and as_compliance.json()["status"] == "withdrawn"
    read = client.get(f"/v1/tenants/{TENANT}/assessments/{approved['id']}", headers=compliance(issuer))
    assert read.status_code == 200


def test_a_consent_given_before_adoption_counts_at_adoption(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    assert deliver(client, consent_recorded(TENANT, case["subject_ref"], given_by="person"))
    approved_assessment(client, issuer, case["id"])
    meeting = quorate_meeting(client, issuer, [case["id"]])
    assert decide(client, staff(issuer, "panel-secretary"), meeting["id"], case["id"]).status_code == 201
    [consented] = outbox(database, "case.consented", case_id=case["id"])
    assert consented.data["given_by"] == "person"


def test_other_outcomes_close_the_case_with_their_codes(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    approved_assessment(client, issuer, case["id"])
    meeting = quorate_meeting(client, issuer, [case["id"]])
    chair = panel_member(issuer, "member-0", write=True)
    assert decide(client, chair, meeting["id"], case["id"], outcome="signpost", reasons="A housing need only."
                  ).status_code == 422
    signposted = decide(client, chair, meeting["id"], case["id"], outcome="signpost",
                        reasons="A housing need only.", referred_to="county-housing")
    assert signposted.status_code == 201
    [event] = outbox(database, "case.signposted", case_id=case["id"])
    assert event.data["signposted_to"] == "county-housing" and "housing need" not in str(event.data)
    again = decide(client, chair, meeting["id"], case["id"], outcome="decline", reasons="r")
    assert again.status_code == 409


def test_panel_members_read_only_their_meetings_agendas(assessment, issuer):
    client, database = assessment
    on_agenda, elsewhere = open_case(client, database), open_case(client, database)
    approved_assessment(client, issuer, on_agenda["id"])
    meeting = quorate_meeting(client, issuer, [on_agenda["id"]])
    member = panel_member(issuer, "member-1")
    agenda = client.get(f"/v1/tenants/{TENANT}/panel-meetings/{meeting['id']}/agenda", headers=member)
    assert agenda.status_code == 200, agenda.text
    [item] = agenda.json()["items"]
    assert item["case_id"] == on_agenda["id"] and item["assessment"]["status"] == "approved"
    assert outbox(database, "access.recorded", actor="member-1", resource=f"assessment/{item['assessment']['id']}")
    # Not through the case routes, not another case, not a meeting they do not attend.
    assert client.get(f"/v1/tenants/{TENANT}/cases/{elsewhere['id']}", headers=member).status_code == 403
    stranger = panel_member(issuer, "member-99")
    assert client.get(f"/v1/tenants/{TENANT}/panel-meetings/{meeting['id']}/agenda",
                      headers=stranger).status_code == 404
    assert meeting["id"] not in client.get(f"/v1/tenants/{TENANT}/panel-meetings", headers=stranger).text


def test_reassessment_falls_due_at_review_and_when_new_information_arrives(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    worker = staff(issuer, "worker-1")
    # New information about a person not yet assessed feeds the first assessment: nothing is due.
    assert deliver(client, plan_reviewed(TENANT, case["id"], case["subject_ref"], reassessment_requested=True))
    due = client.get(f"/v1/tenants/{TENANT}/reassessments", headers=worker, params={"within_days": 3650}).json()
    assert case["id"] not in str(due)
    approved_assessment(client, issuer, case["id"])
    assert deliver(client, repeat_referral(TENANT, case["subject_ref"]))
    due = client.get(f"/v1/tenants/{TENANT}/reassessments", headers=worker).json()["items"]
    [mine] = [d for d in due if d["case_id"] == case["id"]]
    assert mine["reason"] == "repeat_referral" and mine["overdue"] is False
    assert outbox(database, "reassessment.due", case_id=case["id"], reason="repeat_referral")
    approved_assessment(client, issuer, case["id"])  # the reassessment is made: nothing is due
    assert case["id"] not in str(client.get(f"/v1/tenants/{TENANT}/reassessments", headers=worker).json())
    assert deliver(client, plan_reviewed(TENANT, case["id"], case["subject_ref"], reassessment_requested=True))
    assert outbox(database, "reassessment.due", case_id=case["id"], reason="intervention_review")
    bad = client.get(f"/v1/tenants/{TENANT}/reassessments", headers=worker, params={"within_days": -1})
    assert bad.status_code == 422


def test_a_confirmed_match_is_a_repeat_referral_for_the_persons_assessed_cases(assessment, issuer):
    """Intake confirms a candidate match (`subject.merged`): the other subject's referral is new information
    about the person, whichever of the two subjects the assessed case was opened for."""
    client, database = assessment
    worker = staff(issuer, "worker-1")
    for assessed_is_root in (True, False):
        assessed, other = open_case(client, database), open_case(client, database)
        approved_assessment(client, issuer, assessed["id"])
        root, joined = (assessed, other) if assessed_is_root else (other, assessed)
        assert deliver(client, subject_merged(TENANT, subject_ref=root["subject_ref"],
                                              merged_ref=joined["subject_ref"]))
        due = client.get(f"/v1/tenants/{TENANT}/reassessments", headers=worker).json()["items"]
        [mine] = [d for d in due if d["case_id"] == assessed["id"]]
        assert mine["reason"] == "repeat_referral"
        assert outbox(database, "reassessment.due", case_id=assessed["id"], reason="repeat_referral")
        # The other subject's case was never assessed: the news feeds its first assessment instead.
        assert other["id"] not in {d["case_id"] for d in due}


def test_due_reassessments_page_by_date_and_show_what_is_overdue(assessment, issuer):
    client, database = assessment
    worker = staff(issuer, "worker-1")
    for _ in range(2):
        case = open_case(client, database)
        approved_assessment(client, issuer, case["id"])
        assert deliver(client, repeat_referral(TENANT, case["subject_ref"]))
    url = f"/v1/tenants/{TENANT}/reassessments"
    first = client.get(url, headers=worker, params={"limit": 1}).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = client.get(url, headers=worker, params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200 and second.json()["items"][0]["due_on"] >= first["items"][0]["due_on"]
    assert client.get(url, headers=worker, params={"overdue": "true"}).json()["items"] == []
    client.app.state.clock = lambda: datetime.now(UTC) + timedelta(days=2)
    try:
        overdue = client.get(url, headers=worker, params={"overdue": "true"}).json()["items"]
        assert overdue and all(item["overdue"] for item in overdue)
    finally:
        del client.app.state.clock
    forged = client.get(url, headers=worker, params={"cursor": first["next_cursor"][:-2] + "xx"})
    assert forged.status_code == 422


def test_the_persons_access_request_gets_their_assessments_and_decisions_not_others_words(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    approved = approved_assessment(client, issuer, case["id"])
    meeting = quorate_meeting(client, issuer, [case["id"]])
    decided = decide(client, staff(issuer, "panel-secretary"), meeting["id"], case["id"], **ADOPT,
                     dissent=[{"member": "member-1", "reason": "A private view of the member."}])
    assert decided.status_code == 201
    officer = issuer.headers(tenants={TENANT: ["intake_officer"]}, scope="cases:read", sub="officer-1")
    export = client.get(f"/v1/tenants/{TENANT}/subjects/{case['subject_ref']}/export", headers=officer)
    assert export.status_code == 200, export.text
    body = export.json()
    assert [a["id"] for a in body["assessments"]] == [approved["id"]]
    assert body["panel_decisions"][0]["reasons"] == ADOPT["reasons"]
    assert "private view" not in export.text and "Seen at school" not in export.text
    assert outbox(database, "access.recorded", resource=f"subject/{case['subject_ref']}/export")


def test_a_tenant_sets_its_quorum_and_a_closed_case_is_decided_no_more(assessment, issuer):
    client, database = assessment
    manager = staff(issuer, "manager-1", "programme_manager")
    url = f"/v1/tenants/{TENANT}/assessment-settings"
    assert client.get(url, headers=manager).json() == {"four_eyes": True, "panel_quorum": 3}
    assert client.put(url, headers=manager, json={"four_eyes": True, "panel_quorum": 0}).status_code == 422
    assert client.put(url, headers=staff(issuer, "worker-1"), json={"four_eyes": True, "panel_quorum": 2}
                      ).status_code == 403
    assert client.put(url, headers=manager, json={"four_eyes": True, "panel_quorum": 2}).status_code == 200
    try:
        case = open_case(client, database)
        approved_assessment(client, issuer, case["id"])
        meeting = quorate_meeting(client, issuer, [case["id"]], agencies=2)
        assert meeting["quorate"] is True
        assert outbox(database, "assessment_settings.changed", panel_quorum="2")
        assert deliver(client, case_closed(TENANT, case["id"], case["subject_ref"]))
        closed = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}", headers=staff(issuer, "worker-1")).json()
        assert closed["status"] == "closed" and closed["reassessment_due_on"] is None
        assert decide(client, panel_member(issuer, "member-0", write=True), meeting["id"], case["id"]
                      ).status_code == 409
    finally:
        client.put(url, headers=manager, json={"four_eyes": True, "panel_quorum": 3})
