"""Frameworks are data; assessments are attributed, four-eyed structured judgement with item-by-item change."""

from __future__ import annotations

import uuid

import pytest

from tests.assessment.flow import (
    TENANT,
    agency,
    approved_assessment,
    compliance,
    framework,
    open_case,
    outbox,
    panel_member,
    staff,
)

MANAGER = ("programme_manager",)


def definition(item_scale: str = "presence") -> dict:
    return {"scales": [{"code": "presence", "options": [{"code": "no", "label": "No", "rank": 0},
                                                        {"code": "yes", "label": "Yes", "rank": 1}]}],
            "domains": [{"code": "school", "label": "School", "kind": "concerns",
                         "items": [{"code": "truancy", "label": "Truancy", "scale": item_scale}]}]}


def test_every_tenant_starts_with_the_two_starter_frameworks(assessment, issuer):
    client, _ = assessment
    needs = framework(client, staff(issuer, "worker-1"), "needs-screen")
    assert needs["latest_published"] == 1
    [version] = client.get(f"/v1/tenants/{TENANT}/frameworks/{needs['id']}/versions",
                           headers=staff(issuer, "worker-1")).json()["items"]
    items = [i["code"] for d in version["definition"]["domains"] for i in d["items"]]
    assert items == ["education", "employment", "family", "mental_health", "housing", "online_exposure"]
    concerns = framework(client, staff(issuer, "worker-1"), "concerns-and-strengths")
    version = client.get(f"/v1/tenants/{TENANT}/frameworks/{concerns['id']}/versions/1",
                         headers=staff(issuer, "worker-1")).json()
    assert {d["kind"] for d in version["definition"]["domains"]} == {"concerns", "strengths"}


def test_a_published_version_never_changes(assessment, issuer):
    client, database = assessment
    manager = staff(issuer, "manager-1", *MANAGER)
    created = client.post(f"/v1/tenants/{TENANT}/frameworks", headers=manager,
                          json={"code": "school-check", "title": "School check", "definition": definition()})
    assert created.status_code == 201, created.text
    fid = created.json()["id"]
    url = f"/v1/tenants/{TENANT}/frameworks/{fid}/versions/1"
    assert client.put(url, headers=manager, json={"definition": definition()}).status_code == 200
    assert client.post(f"{url}/publish", headers=manager).status_code == 200
    changed = client.put(url, headers=manager, json={"definition": definition()})
    assert changed.status_code == 409 and changed.headers["content-type"] == "application/problem+json"
    assert client.post(f"/v1/tenants/{TENANT}/frameworks/{fid}/versions", headers=manager,
                       json={"definition": definition()}).json()["version"] == 2
    assert outbox(database, "framework.published", framework_id=fid)
    bad = client.post(f"/v1/tenants/{TENANT}/frameworks", headers=manager,
                      json={"code": "broken", "title": "Broken", "definition": definition(item_scale="nowhere")})
    assert bad.status_code == 422
    # A case worker reads frameworks but does not define them.
    assert client.post(f"/v1/tenants/{TENANT}/frameworks", headers=staff(issuer, "worker-1"),
                       json={"code": "mine", "title": "Mine", "definition": definition()}).status_code == 403


def start(client, headers, case_id: str, framework_id: str):
    return client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/assessments", headers=headers,
                       json={"framework_id": framework_id})


def test_ratings_outside_the_framework_are_problems_that_name_the_item(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    worker = staff(issuer, "worker-1")
    chosen = framework(client, worker, "concerns-and-strengths")
    draft = start(client, worker, case["id"], chosen["id"]).json()
    url = f"/v1/tenants/{TENANT}/assessments/{draft['id']}/contributions"
    unknown = client.post(url, headers=worker, json={"ratings": {"star_sign": "present"}})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["item"] == "star_sign"
    off_scale = client.post(url, headers=worker, json={"ratings": {"engagement_group": "very_high"}})
    assert off_scale.status_code == 422 and "engagement_group" in off_scale.json()["detail"]
    # Another tenant's framework is not one this tenant may assess with.
    other = client.get("/v1/tenants/ke-nairobi/frameworks",
                       headers=staff(issuer, "worker-n", tenant="ke-nairobi")).json()["items"][0]
    second_case = open_case(client, database)
    foreign = start(client, worker, second_case["id"], other["id"])
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["framework_id"] == other["id"]


def test_submission_needs_a_summary_needs_from_the_screen_and_a_plan(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    worker = staff(issuer, "worker-1")
    draft = start(client, worker, case["id"], framework(client, worker, "concerns-and-strengths")["id"]).json()
    client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/contributions", headers=worker,
                json={"ratings": {"intent_justification": "partly_present"}})
    url = f"/v1/tenants/{TENANT}/assessments/{draft['id']}/submit"
    assert client.post(url, headers=worker, json={"summary": "x", "needs": ["education"]}).status_code == 422
    unknown_need = client.post(url, headers=worker, json={"summary": "x", "needs": ["astrology"],
                                                          "management_plan": "y"})
    assert unknown_need.status_code == 422 and unknown_need.json()["errors"][0]["need"] == "astrology"
    ok = client.post(url, headers=worker, json={"summary": "x", "needs": ["education"], "management_plan": "y"})
    assert ok.status_code == 200 and ok.json()["status"] == "submitted"


def test_four_eyes_an_author_may_not_approve_and_another_person_may(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    author = staff(issuer, "worker-1")
    draft = start(client, author, case["id"], framework(client, author, "concerns-and-strengths")["id"]).json()
    unassigned = client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/contributions",
                             headers=staff(issuer, "assessor-x", "assessor"), json={"note": "Not assigned here."})
    assert unassigned.status_code == 404
    client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/contributions", headers=author,
                json={"ratings": {"engagement_group": "present"}})
    client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/submit", headers=author,
                json={"summary": "x", "needs": ["education"], "management_plan": "y"})
    url = f"/v1/tenants/{TENANT}/assessments/{draft['id']}/approve"
    refused = client.post(url, headers=staff(issuer, "worker-1"))
    assert refused.status_code == 403 and refused.json()["type"].endswith("/four-eyes")
    returned = client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/return", headers=staff(issuer, "senior-1"),
                           json={"reason": "Say what the school saw."})
    assert returned.status_code == 200 and returned.json()["status"] == "draft"
    assert client.post(url, headers=staff(issuer, "senior-1")).status_code == 409  # a draft is not approved
    client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/submit", headers=author,
                json={"summary": "x, as the school saw it", "needs": ["education"], "management_plan": "y"})
    approved = client.post(url, headers=staff(issuer, "senior-1"))
    assert approved.status_code == 200 and approved.json()["approved_by"] == "senior-1"
    [event] = outbox(database, "assessment.approved", assessment_id=draft["id"])
    assert event.data["needs"] == ["education"] and event.data["supersedes"] is None


def test_four_eyes_a_contributor_who_did_not_start_or_submit_it_may_not_approve(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    starter, contributor = staff(issuer, "worker-starts"), staff(issuer, "worker-contributes")
    draft = start(client, starter, case["id"], framework(client, starter, "concerns-and-strengths")["id"]).json()
    contributed = client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/contributions", headers=contributor,
                              json={"ratings": {"strength_family": "present"}, "note": "The aunt takes her in."})
    assert contributed.status_code == 201, contributed.text
    submitted = client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/submit", headers=starter,
                            json={"summary": "x", "needs": ["family"], "management_plan": "y"})
    assert submitted.status_code == 200, submitted.text
    url = f"/v1/tenants/{TENANT}/assessments/{draft['id']}/approve"
    refused = client.post(url, headers=contributor)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/four-eyes")
    assert not outbox(database, "assessment.approved", assessment_id=draft["id"])
    approved = client.post(url, headers=staff(issuer, "worker-uninvolved"))
    assert approved.status_code == 200 and approved.json()["approved_by"] == "worker-uninvolved"


def test_a_tenant_may_turn_four_eyes_off(assessment, issuer):
    client, database = assessment
    manager = staff(issuer, "manager-1", *MANAGER)
    url = f"/v1/tenants/{TENANT}/assessment-settings"
    assert client.put(url, headers=manager, json={"four_eyes": False, "panel_quorum": 3}).status_code == 200
    try:
        case = open_case(client, database)
        author = staff(issuer, "worker-solo")
        draft = start(client, author, case["id"], framework(client, author, "concerns-and-strengths")["id"]).json()
        client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/contributions", headers=author,
                    json={"ratings": {"engagement_group": "present"}})
        client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/submit", headers=author,
                    json={"summary": "x", "needs": ["education"], "management_plan": "y"})
        assert client.post(f"/v1/tenants/{TENANT}/assessments/{draft['id']}/approve", headers=author).status_code == 200
    finally:
        client.put(url, headers=manager, json={"four_eyes": True, "panel_quorum": 3})


def test_a_settings_change_is_kept_and_published_with_the_values_it_replaced(assessment, issuer):
    client, database = assessment
    manager = staff(issuer, "manager-history", *MANAGER)
    url, history = f"/v1/tenants/{TENANT}/assessment-settings", f"/v1/tenants/{TENANT}/settings/history"
    before = client.get(url, headers=manager).json()
    assert client.put(url, headers=manager, json={"four_eyes": False, "panel_quorum": 4}).status_code == 200
    try:
        [event] = outbox(database, "assessment_settings.changed", actor="manager-history", panel_quorum="4")
        assert (event.data["previous_four_eyes"], event.data["previous_panel_quorum"]) == (
            before["four_eyes"], before["panel_quorum"])
        newest = client.get(history, headers=compliance(issuer)).json()["items"][0]
        assert newest["id"] == event.data["change_id"] and newest["changed_by"] == "manager-history"
        assert (newest["four_eyes"], newest["panel_quorum"]) == (False, 4)
        assert (newest["previous_four_eyes"], newest["previous_panel_quorum"]) == (
            before["four_eyes"], before["panel_quorum"])
    finally:
        assert client.put(url, headers=manager, json=before).status_code == 200
    page = client.get(history, headers=staff(issuer, "worker-1"), params={"limit": 1}).json()
    [restored] = page["items"]
    assert (restored["previous_four_eyes"], restored["four_eyes"]) == (False, before["four_eyes"])
    older = client.get(history, headers=staff(issuer, "worker-1"), params={"limit": 1, "cursor": page["next_cursor"]})
    assert older.json()["items"][0]["id"] == newest["id"]
    assert client.get(history, headers=panel_member(issuer, "member-0")).status_code == 403
    assert client.get(history, headers=agency(issuer)).status_code == 404


def test_a_reassessment_shows_what_changed_item_by_item_and_supersedes_the_last(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    first = approved_assessment(client, issuer, case["id"], ratings={"engagement_group": "present",
                                                                      "intent_justification": "partly_present"})
    assert first["changes"]["items"] == []
    second = approved_assessment(client, issuer, case["id"], ratings={"engagement_group": "partly_present",
                                                                       "intent_justification": "present"})
    by_item = {c["item"]: c["direction"] for c in second["changes"]["items"]}
    assert by_item == {"engagement_group": "improved", "intent_justification": "worsened",
                       "strength_family": "unchanged"}
    assert second["supersedes"] == first["id"]
    history = client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}/assessments", headers=staff(issuer, "worker-1"))
    statuses = [a["status"] for a in history.json()["items"]]
    assert statuses == ["approved", "superseded"]
    [event] = outbox(database, "assessment.approved", assessment_id=second["id"])
    assert (event.data["items_compared"], event.data["items_improved"], event.data["items_worsened"]) == (3, 1, 1)
    assert "score" not in str(client.get("/openapi.json").json()["components"]["schemas"]).lower().replace(
        "no risk score", "")


def test_an_approved_reassessment_tells_monitoring_concerns_down_from_strengths_up(assessment, issuer):
    client, database = assessment
    case = open_case(client, database)
    approved_assessment(client, issuer, case["id"], ratings={"engagement_group": "present",
                                                             "intent_justification": "partly_present",
                                                             "strength_school_work": "partly_present"})
    second = approved_assessment(client, issuer, case["id"], ratings={"engagement_group": "partly_present",
                                                                      "intent_justification": "present",
                                                                      "strength_school_work": "present"})
    [event] = outbox(database, "assessment.approved", assessment_id=second["id"])
    counts = {k: event.data[k] for k in ("items_compared", "items_improved", "items_worsened", "concerns_compared",
                                         "concerns_down", "concerns_up", "strengths_compared", "strengths_up",
                                         "strengths_down")}
    # Two concerns (one down, one up) and two strengths (school up, family unchanged).
    assert counts == {"items_compared": 4, "items_improved": 2, "items_worsened": 1, "concerns_compared": 2,
                      "concerns_down": 1, "concerns_up": 1, "strengths_compared": 2, "strengths_up": 1,
                      "strengths_down": 0}


def test_assessors_read_only_their_assigned_cases(assessment, issuer):
    client, database = assessment
    mine, theirs = open_case(client, database), open_case(client, database)
    assessor = staff(issuer, "assessor-7", "assessor")
    assert client.get(f"/v1/tenants/{TENANT}/cases/{mine['id']}", headers=assessor).status_code == 404
    assigned = client.post(f"/v1/tenants/{TENANT}/cases/{mine['id']}/assignments",
                           headers=staff(issuer, "worker-1"), json={"assessor": "assessor-7"})
    assert assigned.status_code == 201 and assigned.json()["assessors"] == ["assessor-7"]
    assert client.get(f"/v1/tenants/{TENANT}/cases/{mine['id']}", headers=assessor).status_code == 200
    assert client.get(f"/v1/tenants/{TENANT}/cases/{theirs['id']}", headers=assessor).status_code == 404
    listed = client.get(f"/v1/tenants/{TENANT}/cases", headers=assessor).json()["items"]
    assert [c["id"] for c in listed] == [mine["id"]]
    started = start(client, assessor, theirs["id"], framework(client, assessor, "concerns-and-strengths")["id"])
    assert started.status_code == 404


@pytest.mark.parametrize("role", ["partner", "intervention_provider"])
def test_an_outside_party_asking_for_a_case_or_assessment_is_told_there_is_none(assessment, issuer, role):
    """A provider's or partner's system, whatever scopes it holds, gets the 404 an unknown case gets: the same
    problem document, nothing of the case, not even that there is something it may not read."""
    client, database = assessment
    case = open_case(client, database)
    approved = approved_assessment(client, issuer, case["id"])
    outsider = issuer.headers(tenants={TENANT: [role]}, scope="cases:read cases:write panel:read tasks:read",
                              org="coast-youth-mentors", sub=f"{role}-system")
    unknown = client.get(f"/v1/tenants/{TENANT}/cases/{uuid.uuid4()}", headers=staff(issuer, "worker-1"))
    assert unknown.status_code == 404
    for method, path in (("GET", f"cases/{case['id']}"), ("GET", f"assessments/{approved['id']}"),
                         ("GET", f"cases/{case['id']}/assessments"), ("GET", "cases"), ("GET", "reassessments"),
                         ("POST", f"assessments/{approved['id']}/approve")):
        response = client.request(method, f"/v1/tenants/{TENANT}/{path}", headers=outsider)
        assert response.status_code == 404, (path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
        assert (response.json()["type"], response.json()["title"]) == (unknown.json()["type"], unknown.json()["title"])
        assert set(response.json()) <= {"type", "title", "status", "detail", "instance"}  # instance: the path asked
        assert case["subject_ref"] not in response.text
    # A member of the programme whose role does not reach the case is still told it is not permitted.
    assert client.get(f"/v1/tenants/{TENANT}/cases/{case['id']}",
                      headers=panel_member(issuer, "member-9")).status_code == 403
