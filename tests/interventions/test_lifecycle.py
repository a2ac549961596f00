"""Nothing peters out: stalled plans are flagged by the scheduled check as the clock moves (never by sleeping),
flags close only with an action, reviews and closure follow the plan, follow-ups fall due after exit."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from tests.interventions.support import (
    Callers,
    consented_case,
    item,
    move_clock,
    run_flag_check,
    today,
    vetted_provider,
)
from tests.support.services import rows

TENANT = "ke-lifecycle"


def flags(client, staff, case_id, status="open") -> list[dict]:
    response = client.get(f"/v1/tenants/{TENANT}/flags", headers=staff,
                          params={"case_id": str(case_id), "status": status})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def kinds(client, staff, case_id) -> set[str]:
    return {f["kind"] for f in flags(client, staff, case_id)}


def plan_for(client, callers, provider_id, *, needs=("education",), starts_on: date | None = None):
    case_id, subject, _ = consented_case(client, TENANT, needs=list(needs))
    response = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=callers.staff(),
                           json={"items": [item(provider_id, need=n, starts_on=starts_on or today(client))
                                           for n in needs]})
    assert response.status_code == 201, response.text
    return case_id, subject, [i["task_id"] for i in response.json()["items"]]


def test_a_task_without_a_session_for_the_tenants_days_is_flagged_once(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    staff = callers.staff()
    provider_id, organisation = vetted_provider(client, staff, TENANT, expires_in_days=3650)
    case_id, subject, (task_id,) = plan_for(client, callers, provider_id)
    session = client.post(f"/v1/tenants/{TENANT}/tasks/{task_id}/sessions",
                          headers=callers.provider_system(organisation),
                          json={"held_on": today(client).isoformat(), "duration_minutes": 50, "attended": True})
    assert session.status_code == 201

    move_clock(client, days=21)
    run_flag_check(client)
    assert "no_recent_session" not in kinds(client, staff, case_id)  # 21 days is the limit, not past it
    move_clock(client, days=1)
    run_flag_check(client)
    [flag] = [f for f in flags(client, staff, case_id) if f["kind"] == "no_recent_session"]
    assert flag["task_id"] == task_id and flag["subject_ref"] == str(subject)
    run_flag_check(client)
    assert [f["kind"] for f in flags(client, staff, case_id)].count("no_recent_session") == 1
    raised = rows(database.owner, "SELECT data FROM outbox WHERE type = 'flag.raised' AND subject = :s",
                  tenant=TENANT, s=str(subject))
    assert [d["kind"] for (d,) in raised].count("no_recent_session") == 1

    # Closed only with an action; then quiet for the tenant's days, and raised again if still stalled.
    url = f"/v1/tenants/{TENANT}/flags/{flag['flag_id']}/close"
    assert client.post(url, headers=staff, json={"note": "Called the mentor."}).status_code == 422
    assert client.post(url, headers=staff, json={"action": "nothing", "note": "x"}).status_code == 422
    closed = client.post(url, headers=staff, json={"action": "provider_contacted", "note": "Called the mentor."})
    assert closed.status_code == 200 and closed.json()["action"] == "provider_contacted"
    assert client.post(url, headers=staff, json={"action": "other", "note": "again"}).status_code == 409
    run_flag_check(client)
    assert "no_recent_session" not in kinds(client, staff, case_id)
    move_clock(client, days=22)
    run_flag_check(client)
    assert "no_recent_session" in kinds(client, staff, case_id)


def test_the_tenant_sets_when_a_task_counts_as_stalled(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, "ke-lifecycle-strict")
    staff = callers.staff()
    settings = client.put("/v1/tenants/ke-lifecycle-strict/intervention-settings", headers=staff,
                          json={"stall_days": 7, "review_interval_months": 1, "follow_up_months": [3]})
    assert settings.status_code == 200, settings.text
    assert client.get("/v1/tenants/ke-lifecycle-strict/intervention-settings",
                      headers=staff).json()["stall_days"] == 7
    for bad in ({"stall_days": 0}, {"follow_up_months": [6, 6]}, {"review_interval_months": 100}, {"x": 1}):
        assert client.put("/v1/tenants/ke-lifecycle-strict/intervention-settings", headers=staff,
                          json=bad).status_code == 422
    provider_id, _ = vetted_provider(client, staff, "ke-lifecycle-strict")
    case_id, _, _ = consented_case(client, "ke-lifecycle-strict", needs=["education"])
    client.post(f"/v1/tenants/ke-lifecycle-strict/cases/{case_id}/plan", headers=staff,
                json={"items": [item(provider_id, starts_on=today(client) - timedelta(days=8))]})
    run_flag_check(client)
    response = client.get("/v1/tenants/ke-lifecycle-strict/flags", headers=staff, params={"case_id": str(case_id)})
    assert {f["kind"] for f in response.json()["items"]} == {"no_recent_session"}


def test_an_expired_vetting_flags_the_providers_open_tasks(interventions, issuer):
    client, _ = interventions
    callers = Callers(issuer, TENANT)
    staff = callers.staff()
    provider_id, _ = vetted_provider(client, staff, TENANT, expires_in_days=10)
    case_id, _, (task_id,) = plan_for(client, callers, provider_id)
    run_flag_check(client)
    assert "vetting_expired" not in kinds(client, staff, case_id)
    move_clock(client, days=11)
    run_flag_check(client)
    [flag] = [f for f in flags(client, staff, case_id) if f["kind"] == "vetting_expired"]
    assert flag["task_id"] == task_id
    # And the provider gets no new task while its vetting is expired.
    other_case, _, _ = consented_case(client, TENANT, needs=["education"])
    refused = client.post(f"/v1/tenants/{TENANT}/cases/{other_case}/plan", headers=staff,
                          json={"items": [item(provider_id, starts_on=today(client))]})
    assert refused.status_code == 422


def test_a_review_records_goals_changes_the_plan_and_may_ask_for_reassessment(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    staff = callers.staff()
    provider_id, _ = vetted_provider(client, staff, TENANT, types=("mentoring", "family_support"),
                                     expires_in_days=3650)
    case_id, subject, (education, family) = plan_for(client, callers, provider_id, needs=("education", "family"))
    move_clock(client, days=95)
    run_flag_check(client)
    assert "review_overdue" in kinds(client, staff, case_id)

    reviewed_on = today(client)
    review = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan/reviews", headers=staff, json={
        "reviewed_on": reviewed_on.isoformat(),
        "goals": [{"task_id": education, "met": True}, {"task_id": family, "met": False}],
        "items": [item(provider_id, need="family", intervention_type="family_support", starts_on=reviewed_on,
                       goal="Parents attend the coaching group")],
        "reassessment_requested": True,
        "note": "Education goal reached; family support changes to parent coaching.",
    })
    assert review.status_code == 201, review.text
    body = review.json()
    assert body["plan_changed"] is True and body["plan_version"] == 2
    assert (date.fromisoformat(body["next_review_on"]) - reviewed_on).days in range(89, 93)
    plan = client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=staff).json()
    status = {i["task_id"]: i["status"] for i in plan["items"]}
    assert status[education] == "completed" and status[family] == "ended" and plan["version"] == 2
    assert list(status.values()).count("open") == 1
    [(published,)] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'plan.reviewed' AND subject = :s",
                          tenant=TENANT, s=str(subject))
    assert (published["goals_met"], published["goals_not_met"], published["plan_changed"],
            published["reassessment_requested"]) == (1, 1, True, True)
    assert "review_overdue" not in kinds(client, staff, case_id)  # the review answered it
    [answered] = [f for f in flags(client, staff, case_id, status="closed") if f["kind"] == "review_overdue"]
    assert answered["action"] == "review_held"
    assert [r["review_id"] for r in client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/plan/reviews",
                                                headers=staff).json()["items"]] == [body["review_id"]]

    # A goal without progress since the last review is flagged once the review is the tenant's days old.
    new_task = next(t for t, s in status.items() if s == "open")
    move_clock(client, days=22)
    run_flag_check(client)
    stalled = [f for f in flags(client, staff, case_id) if f["kind"] == "goal_without_progress"]
    assert [f["task_id"] for f in stalled] == [new_task]

    for bad in ({"reviewed_on": reviewed_on.isoformat(), "goals": [{"task_id": str(uuid.uuid4()), "met": True}]},
                {"reviewed_on": (today(client) + timedelta(days=3)).isoformat(), "goals": []},
                {"reviewed_on": reviewed_on.isoformat(), "goals": [], "next_review_on": reviewed_on.isoformat()},
                {"goals": []}):
        response = client.post(f"/v1/tenants/{TENANT}/cases/{case_id}/plan/reviews", headers=staff, json=bad)
        assert response.status_code == 422, (bad, response.text)


def test_closure_ends_the_tasks_publishes_case_closed_and_follow_ups_fall_due(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, TENANT)
    staff = callers.staff()
    provider_id, organisation = vetted_provider(client, staff, TENANT, expires_in_days=3650)
    case_id, subject, (task_id,) = plan_for(client, callers, provider_id)
    move_clock(client, days=30)
    run_flag_check(client)
    assert "no_recent_session" in kinds(client, staff, case_id)

    url = f"/v1/tenants/{TENANT}/cases/{case_id}/plan/closure"
    assert client.post(url, headers=staff, json={"exit_reason": "bored", "closing_report": "x" * 20}).status_code == 422
    assert client.post(url, headers=staff, json={"exit_reason": "substantially_reduced"}).status_code == 422
    # Relocation ends support only through the case's transfer, which closes the plan itself.
    relocated = client.post(url, headers=staff, json={"exit_reason": "relocation",
                                                      "closing_report": "The family moved to Nairobi."})
    assert relocated.status_code == 409 and relocated.json()["type"].endswith("/transfer-required")
    assert "/transfers" in relocated.json()["detail"]
    assert client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/plan", headers=staff).json()["status"] == "active"
    closed = client.post(url, headers=staff, json={
        "exit_reason": "substantially_reduced",
        "closing_report": "Back in education, reconnected with family; concerns much reduced at reassessment."})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["items"][0]["status"] == "ended"
    assert client.post(url, headers=staff, json={"exit_reason": "escalation",
                                                 "closing_report": "Closing it twice."}).status_code == 409
    assert kinds(client, staff, case_id) == set()  # closure answered the open flags
    [(published,)] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'case.closed' AND subject = :s",
                          tenant=TENANT, s=str(subject))
    assert published["exit_reason"] == "substantially_reduced" and len(published["follow_ups_due"]) == 2
    assert "report" not in str(published) and "education" not in str(published)
    task = client.get(f"/v1/tenants/{TENANT}/tasks/{task_id}", headers=callers.provider_system(organisation)).json()
    assert task["status"] == "ended"

    follow_ups = client.get(f"/v1/tenants/{TENANT}/cases/{case_id}/follow-ups", headers=staff).json()["items"]
    assert [f["months_after_exit"] for f in follow_ups] == [6, 12]
    six = follow_ups[0]
    move_clock(client, days=150)
    run_flag_check(client)
    assert "follow_up_due" not in kinds(client, staff, case_id)
    move_clock(client, days=40)
    run_flag_check(client)
    [due] = flags(client, staff, case_id)
    assert (due["kind"], due["target_id"]) == ("follow_up_due", six["follow_up_id"])

    record_url = f"/v1/tenants/{TENANT}/cases/{case_id}/follow-ups/{six['follow_up_id']}"
    assert client.put(record_url, headers=staff, json={"outcome": "fine", "in_education_or_work": True,
                                                       "re_referred": False}).status_code == 422
    recorded = client.put(record_url, headers=staff, json={"outcome": "doing_well", "in_education_or_work": True,
                                                           "re_referred": False})
    assert recorded.status_code == 200, recorded.text
    assert client.put(record_url, headers=staff, json={"outcome": "doing_well", "in_education_or_work": True,
                                                       "re_referred": False}).status_code == 409
    assert kinds(client, staff, case_id) == set()
    [(follow_up,)] = rows(database.owner, "SELECT data FROM outbox WHERE type = 'follow_up.recorded' "
                          "AND subject = :s", tenant=TENANT, s=str(subject))
    assert (follow_up["months_after_exit"], follow_up["outcome"]) == (6, "doing_well")


def test_flags_list_records_each_read_and_pages(interventions, issuer):
    client, database = interventions
    callers = Callers(issuer, "ke-lifecycle-pages")
    staff = callers.staff()
    provider_id, _ = vetted_provider(client, staff, "ke-lifecycle-pages")
    for _ in range(3):
        case_id, _, _ = consented_case(client, "ke-lifecycle-pages", needs=["education"])
        client.post(f"/v1/tenants/ke-lifecycle-pages/cases/{case_id}/plan", headers=staff,
                    json={"items": [item(provider_id, starts_on=today(client) - timedelta(days=30))]})
    run_flag_check(client)
    first = client.get("/v1/tenants/ke-lifecycle-pages/flags", headers=staff, params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("/v1/tenants/ke-lifecycle-pages/flags", headers=staff,
                      params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get("/v1/tenants/ke-lifecycle-pages/flags", headers=staff,
                      params={"cursor": "forged"}).status_code == 422
    assert client.get("/v1/tenants/ke-lifecycle-pages/flags", headers=staff,
                      params={"kind": "astrology"}).status_code == 422
    reads = rows(database.owner, "SELECT count(*) FROM outbox WHERE type = 'access.recorded' "
                 "AND tenant_id = :t AND data->>'resource' LIKE 'flag/%'", t="ke-lifecycle-pages")
    assert reads == [(3,)]
