"""Providers: each sees and records on its own tasks only, knows the person by a pseudonym, and never sees
the need, the case or the person's subject reference; withdrawal stops every open task at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.interventions.support import (
    Callers,
    allow_provider,
    apply,
    case_consented,
    case_withdrawn,
    consent_recorded,
    consent_withdrawn,
    consented_case,
    item,
    registered_organisation,
    today,
    vetted_provider,
)
from tests.support.services import rows

TENANT = "ke-tasks"


def planned(client, callers, *providers, needs=("education",)) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, list]:
    """A consented case with one task per provider: (case_id, subject_ref, consent_id, task ids)."""
    case_id, subject, consent_id = consented_case(client, TENANT, needs=list(needs))
    start = today(client) - timedelta(days=7)
    response = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=callers.staff(),
                           json={"items": [item(p, starts_on=start) for p in providers]})
    assert response.status_code == 201, response.text
    by_provider = {i["provider_id"]: i["task_id"] for i in response.json()["items"]}
    return case_id, subject, consent_id, [by_provider[str(p)] for p in providers]


def test_a_provider_lists_only_its_own_tasks_with_goal_and_pseudonym(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, TENANT)
    first, first_org = vetted_provider(client, callers.staff(), TENANT)
    second, second_org = vetted_provider(client, callers.staff(), TENANT)
    _, subject, _, (mine, theirs) = planned(client, callers, first, second)

    listed = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(first_org))
    assert listed.status_code == 200, listed.text
    [task] = listed.json()["items"]
    assert task["task_id"] == mine and task["goal"] and task["status"] == "open"
    assert uuid.UUID(task["reference"]) != subject
    body = listed.text
    for hidden in (str(subject), "education", "case_id", "need", "subject_ref"):
        assert hidden not in body, hidden
    other = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(second_org)).json()["items"]
    assert [t["task_id"] for t in other] == [theirs]
    assert other[0]["reference"] != task["reference"]  # a pseudonym per provider: they cannot link the person
    for path in (f"/tasks/{theirs}", f"/tasks/{theirs}/sessions"):
        assert client.get(f"/v1/tenants/{TENANT}{path}", headers=callers.provider_system(first_org)).status_code == 404
    recorded = client.post(f"/v1/tenants/{TENANT}/tasks/{theirs}/sessions", headers=callers.provider_system(first_org),
                           json={"held_on": today(client).isoformat(), "duration_minutes": 60, "attended": True})
    assert recorded.status_code == 404


def test_a_provider_cannot_reach_plans_flags_or_cases(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, TENANT)
    provider_id, organisation = vetted_provider(client, callers.staff(), TENANT)
    case_id, _, _, _ = planned(client, callers, provider_id)
    provider = callers.provider_system(organisation)
    for path in (f"/cases/{case_id}/plan", f"/cases/{case_id}/plan/versions", f"/cases/{case_id}/plan/reviews",
                 "/cases", "/flags", "/providers", f"/cases/{case_id}/follow-ups", "/intervention-settings"):
        response = client.get(f"/v1/tenants/{TENANT}{path}", headers=provider)
        assert response.status_code == 403, (path, response.status_code)
        assert "items" not in response.json()


def test_sessions_and_progress_are_recorded_and_published_with_codes_only(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    provider_id, organisation = vetted_provider(client, callers.staff(), TENANT)
    case_id, subject, _, (task_id,) = planned(client, callers, provider_id)
    provider = callers.provider_system(organisation)
    held = today(client) - timedelta(days=2)
    session = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=provider, json={
        "held_on": held.isoformat(), "duration_minutes": 45, "attended": True, "note": "Talked about the course."})
    assert session.status_code == 201, session.text
    missed = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=provider, json={
        "held_on": today(client).isoformat(), "duration_minutes": 0, "attended": False})
    assert missed.status_code == 201
    progress = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/progress", headers=provider,
                           json={"rating": "some_progress", "note": "Visited the college."})
    assert progress.status_code == 201, progress.text

    task = client.get(f"/v1/tenants/{TENANT}/tasks/{task_id}", headers=provider).json()
    assert task["last_session_on"] == held.isoformat()  # a missed session is not contact
    sessions = client.get(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=provider).json()["items"]
    assert [s["attended"] for s in sessions] == [False, True]
    published = rows(database.owner, "SELECT type, data FROM outbox WHERE subject = :s AND type IN "
                     "('session.recorded', 'progress.recorded') ORDER BY seq", tenant=TENANT, s=str(subject))
    assert [t for t, _ in published] == ["session.recorded", "session.recorded", "progress.recorded"]
    first = published[0][1]
    assert (first["task_id"], first["case_id"], first["provider"]) == (task_id, str(case_id), str(provider_id))
    assert first["duration_minutes"] == 45 and first["attended"] is True
    assert published[2][1]["rating"] == "some_progress"
    assert "course" not in str(published) and "college" not in str(published)  # notes stay here
    # The staff's plan shows how delivery goes, and the sessions with their notes.
    plan = client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=callers.staff()).json()
    assert plan["items"][0]["last_session_on"] == held.isoformat() and plan["items"][0]["last_progress_at"]
    staff_sessions = client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/plan/sessions", headers=callers.staff())
    assert [s["note"] for s in staff_sessions.json()["items"]] == [None, "Talked about the course."]


def test_a_provider_sees_only_the_fields_its_agreement_names_and_the_disclosure_is_recorded(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    provider_id, organisation = vetted_provider(client, callers.staff(), TENANT)
    _, subject, _, (task_id,) = planned(client, callers, provider_id)
    provider = callers.provider_system(organisation)
    assert client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=provider, json={
        "held_on": today(client).isoformat(), "duration_minutes": 30, "attended": True,
        "note": "Walked to the library."}).status_code == 201
    # A later agreement (the one in force longest is chosen) names the goal, the reference and a session's day only.
    allow_provider(client, tenant=TENANT, organisation=organisation, fields=("reference", "goal", "held_on"),
                   valid_until=today(client) + timedelta(days=800))

    task = client.get(f"/v1/tenants/{TENANT}/tasks/{task_id}", headers=provider).json()
    assert task["task_id"] == task_id and task["status"] == "open" and task["goal"] and task["reference"]
    assert [k for k, v in task.items() if v is None] == [
        "intervention_type", "practitioner_id", "starts_on", "expected_end_on", "last_session_on"]
    [listed] = client.get(f"/v1/tenants/{TENANT}/tasks", headers=provider).json()["items"]
    assert listed == task
    [session] = client.get(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=provider).json()["items"]
    assert session["held_on"] == today(client).isoformat()
    assert (session["note"], session["attended"], session["duration_minutes"]) == (None, None, None)
    recorded = rows(database.owner, "SELECT data->>'resource', data->'fields' FROM outbox WHERE "
                    "type = 'access.recorded' AND subject = :s AND data->>'organisation' = :org ORDER BY seq DESC "
                    "LIMIT 3", tenant=TENANT, s=str(subject), org=organisation)
    assert recorded == [(f"task/{task_id}/sessions", ["held_on", "session_id", "task_id"]),
                        (f"task/{task_id}", ["goal", "reference", "status", "task_id"]),
                        (f"task/{task_id}", ["goal", "reference", "status", "task_id"])]


def test_where_the_agreement_requires_consent_a_task_is_given_only_with_consent_naming_the_provider(
        interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    provider_id, organisation = vetted_provider(client, callers.staff(), TENANT)
    allow_provider(client, tenant=TENANT, organisation=organisation, consent_required=True,
                   valid_until=today(client) + timedelta(days=800))
    provider = callers.provider_system(organisation)
    _, named, _, (given,) = planned(client, callers, provider_id)
    _, elsewhere, _, (other_org,) = planned(client, callers, provider_id)
    _, lapsed, _, (expired,) = planned(client, callers, provider_id)
    _, _, _, (silent,) = planned(client, callers, provider_id)
    now = client.app.state.clock.now()
    naming = uuid.uuid4()
    assert apply(client, consent_recorded(TENANT, subject_ref=named, organisations=[organisation], consent_id=naming))
    assert apply(client, consent_recorded(TENANT, subject_ref=elsewhere, organisations=["another-provider"]))
    assert apply(client, consent_recorded(TENANT, subject_ref=lapsed, organisations=[organisation],
                                          expires_at=now - timedelta(days=1)))

    listed = client.get(f"/v1/tenants/{TENANT}/tasks", headers=provider).json()["items"]
    assert [t["task_id"] for t in listed] == [given]
    assert client.get(f"/v1/tenants/{TENANT}/tasks/{given}", headers=provider).status_code == 200
    session = {"held_on": today(client).isoformat(), "duration_minutes": 30, "attended": True}
    for task_id in (other_org, expired, silent):
        for method, path, body in (("GET", "", None), ("GET", "/sessions", None), ("POST", "/sessions", session)):
            response = client.request(method, f"/v1/tenants/{TENANT}/tasks/{task_id}{path}", headers=provider,
                                      json=body)
            assert response.status_code == 403, (task_id, path, response.text)
            assert response.json()["type"].endswith("/consent-required")
    refused = rows(database.owner, "SELECT data->>'operation' FROM outbox WHERE type = 'agreement.refused' AND "
                   "data->'party'->>'id' = :org AND data->>'reason' = 'consent required and not recorded'",
                   tenant=TENANT, org=organisation)
    assert sorted(o for (o,) in refused) == ["read_intervention_tasks"] * 6 + ["record_intervention_sessions"] * 3
    # Withdrawn, the consent names no one: the task leaves the provider's list.
    assert apply(client, consent_withdrawn(TENANT, consent_id=naming, subject_ref=named))
    assert client.get(f"/v1/tenants/{TENANT}/tasks", headers=provider).json()["items"] == []
    assert client.get(f"/v1/tenants/{TENANT}/tasks/{given}", headers=provider).status_code == 403


def test_bad_sessions_are_problems(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, TENANT)
    provider_id, organisation = vetted_provider(client, callers.staff(), TENANT)
    _, _, _, (task_id,) = planned(client, callers, provider_id)
    url = f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions"
    good = {"held_on": today(client).isoformat(), "duration_minutes": 30, "attended": True}
    for body in ({**good, "held_on": (today(client) + timedelta(days=1)).isoformat()},
                 {**good, "held_on": (today(client) - timedelta(days=60)).isoformat()},
                 {**good, "duration_minutes": -5}, {**good, "duration_minutes": 10_000},
                 {**good, "note": "x" * 501}, {**good, "attended": "perhaps"}, {**good, "name": "Amina"},
                 {"held_on": "yesterday", "duration_minutes": 30, "attended": True}):
        response = client.post(url, headers=callers.provider_system(organisation), json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    bad_rating = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/progress",
                             headers=callers.provider_system(organisation), json={"rating": "excellent"})
    assert bad_rating.status_code == 422


def test_a_practitioner_sees_only_the_tasks_given_to_them(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, TENANT)
    staff = callers.staff()
    provider_id, organisation = vetted_provider(client, staff, TENANT)
    mentor, other = uuid.uuid4(), uuid.uuid4()
    named = client.post(f"/v1/tenants/{TENANT}/providers/{provider_id}/practitioners", headers=staff,
                        json={"person_id": str(mentor)})
    assert named.status_code == 201, named.text
    practitioner_id = named.json()["practitioners"][0]["practitioner_id"]
    case_id, _, _ = consented_case(client, TENANT, needs=["education", "family"])
    start = today(client)
    plan = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=staff, json={"items": [
        item(provider_id, starts_on=start, practitioner_id=practitioner_id),
        item(provider_id, need="family", starts_on=start)]})
    assert plan.status_code == 201, plan.text
    mine = next(i["task_id"] for i in plan.json()["items"] if i["practitioner_id"] == practitioner_id)

    seen = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.practitioner(organisation, mentor)).json()
    assert [t["task_id"] for t in seen["items"]] == [mine]
    organisation_sees = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(organisation))
    assert len(organisation_sees.json()["items"]) == 2
    open_only = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(organisation),
                           params={"status": "open", "limit": 1})
    assert len(open_only.json()["items"]) == 1 and open_only.json()["next_cursor"]
    assert client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(organisation),
                      params={"status": "paused"}).status_code == 422
    stranger = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.practitioner(organisation, other))
    assert stranger.status_code == 404


def test_a_provider_without_an_agreement_in_force_is_refused(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    staff = callers.staff()
    organisation = f"provider-{uuid.uuid4().hex[:8]}"
    registered_organisation(client, organisation, tenants=[TENANT])
    assert client.post(f"/v1/tenants/{TENANT}/providers", json={"organisation": organisation},
                       headers=staff).status_code == 201
    response = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(organisation))
    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    assert rows(database.owner, "SELECT count(*) FROM outbox WHERE type = 'agreement.refused' "
                "AND data->'party'->>'id' = :org", tenant=TENANT, org=organisation) == [(1,)]


def withdrawal_stops_every_open_task(client, callers, withdraw) -> None:
    first, first_org = vetted_provider(client, callers.staff(), TENANT)
    second, _ = vetted_provider(client, callers.staff(), TENANT)
    case_id, subject, consent_id, (task_id, _) = planned(client, callers, first, second)
    assert apply(client, withdraw(case_id=case_id, subject_ref=subject, consent_id=consent_id))

    [task] = client.get(f"/v1/tenants/{TENANT}/tasks", headers=callers.provider_system(first_org)).json()["items"]
    assert task == {"task_id": task_id, "status": "stopped", "reference": None, "goal": None,
                    "intervention_type": None, "practitioner_id": None, "starts_on": None, "expected_end_on": None,
                    "last_session_on": None}
    assert client.get(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions",
                      headers=callers.provider_system(first_org)).json()["items"] == []
    refused = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=callers.provider_system(first_org),
                          json={"held_on": today(client).isoformat(), "duration_minutes": 30, "attended": True})
    assert refused.status_code == 409
    plan = client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=callers.staff()).json()
    assert plan["status"] == "stopped" and {i["status"] for i in plan["items"]} == {"stopped"}
    change = client.put(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=callers.staff(),
                        json={"based_on_version": 1, "items": [item(first, starts_on=today(client))]})
    assert change.status_code == 409


def test_case_withdrawn_stops_every_open_task_and_providers_see_stopped_only(interventions, issuer):
    client, _ = interventions
    withdrawal_stops_every_open_task(client, Callers(issuer, TENANT), lambda **k: case_withdrawn(TENANT, **k))


def test_a_stopped_plan_starts_again_only_with_new_consent(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, TENANT)
    provider_id, _ = vetted_provider(client, callers.staff(), TENANT)
    case_id, subject, consent_id, _ = planned(client, callers, provider_id)
    apply(client, case_withdrawn(TENANT, case_id=case_id, subject_ref=subject, consent_id=consent_id))
    url = f"/v1/tenants/{TENANT}/cases/{case_id}/plan"
    body = {"items": [item(provider_id, starts_on=today(client))]}
    assert client.post(url, headers=callers.staff(), json=body).status_code == 409
    apply(client, case_consented(TENANT, case_id=case_id, subject_ref=subject, needs=["education"]))
    restarted = client.post(url, headers=callers.staff(), json=body)
    assert restarted.status_code == 201, restarted.text
    assert restarted.json()["status"] == "active" and restarted.json()["version"] == 2
    assert [i["status"] for i in restarted.json()["items"]] == ["stopped", "open"]


def test_consent_withdrawn_at_intake_stops_the_cases_resting_on_it(interventions, issuer):
    client, _ = interventions
    withdrawal_stops_every_open_task(client, Callers(issuer, TENANT), lambda case_id, **k: consent_withdrawn(
        TENANT, consent_id=k["consent_id"], subject_ref=k["subject_ref"]))


def test_an_access_request_gathers_everything_held_about_the_person(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    provider_id, organisation = vetted_provider(client, callers.staff(), TENANT)
    case_id, subject, _, (task_id,) = planned(client, callers, provider_id)
    client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions", headers=callers.provider_system(organisation),
                json={"held_on": today(client).isoformat(), "duration_minutes": 40, "attended": True,
                      "note": "Met at the library."})
    officer = issuer.headers(tenants={TENANT: ["intake_officer"]}, scope="cases:read", sub="officer-9")
    exported = client.get(f"/v1/tenants/{TENANT}/subjects/{subject}/export", headers=officer)
    assert exported.status_code == 200, exported.text
    record = exported.json()
    assert [c["case_id"] for c in record["known_cases"]] == [str(case_id)]
    assert [p["case_id"] for p in record["plans"]] == [str(case_id)]
    assert [t["task_id"] for t in record["tasks"]] == [task_id]
    assert [s["note"] for s in record["sessions"]] == ["Met at the library."]
    assert rows(database.owner, "SELECT count(*) FROM outbox WHERE type = 'access.recorded' AND subject = :s "
                "AND data->>'purpose' = 'data-subject-access'", tenant=TENANT, s=str(subject)) == [(1,)]
    assert client.get(f"/v1/tenants/{TENANT}/subjects/{subject}/export", headers=callers.staff()).status_code == 403
