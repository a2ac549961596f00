"""A consented case through intervention tracking, every process through the gateway: the case comes
the real way (referral, screening, an approved assessment naming its needs, the panel's adoption, consent
at intake, `case.consented`); the county plans support for those needs, a provider's system records
sessions, the plan stalls when the clock is moved (never slept on) and is flagged, a review, closure, and
a follow-up falling due. A second provider sees none of the first's tasks, and a provider asking for the
assessment gets nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import REFERRAL, TENANT, accept, case_for, consented_case, eventually, oauth_client

API = f"/interventions/v1/tenants/{TENANT}"
NEEDS = ["education", "online_exposure"]


class Days:
    """The days the test moved the stack's clock by, so that dates are sent as the services see today."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.moved = 0

    def move(self, days: int) -> None:
        self.stack.move_clock(days=days)
        self.moved += days

    def today(self) -> str:
        return (datetime.now(UTC) + timedelta(days=self.moved)).date().isoformat()


@pytest.fixture
def days(stack) -> Iterator[Days]:
    moved = Days(stack)
    try:
        yield moved
    finally:
        stack.move_clock(days=-moved.moved)  # the stack's later tests see today again


def provider_id(manager: httpx.Client, organisation: str, types: tuple[str, ...], today: str) -> str:
    """The demo provider organisation registered (once) and vetted for the types."""
    registered = manager.post(f"{API}/providers", json={"organisation": organisation})
    if registered.status_code == 409:  # another test of the session registered it already
        listed = manager.get(f"{API}/providers", params={"limit": 500}).json()["items"]
        found = next(p["provider_id"] for p in listed if p["organisation"] == organisation)
    else:
        assert registered.status_code == 201, registered.text
        found = registered.json()["provider_id"]
    vetted_on = datetime.fromisoformat(today) - timedelta(days=10)
    for code in types:
        vetting = manager.put(f"{API}/providers/{found}/vettings/{code}", json={
            "vetted_on": vetted_on.date().isoformat(),
            "expires_on": (vetted_on + timedelta(days=730)).date().isoformat()})
        assert vetting.status_code == 200, vetting.text
    return found


def open_flags(manager: httpx.Client, case_id: str) -> list[dict[str, Any]]:
    response = manager.get(f"{API}/flags", params={"case_id": case_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_consented_case_from_plan_to_follow_up(stack, days):
    consented = consented_case(stack, needs=NEEDS)
    case_id, subject = consented["case_id"], consented["subject_ref"]
    partner = oauth_client(stack, "mombasa-youth-cso-system")
    intake_officer = oauth_client(stack, "mombasa-intake-officer")
    manager = oauth_client(stack, "mombasa-case-manager")
    mentors = oauth_client(stack, "coast-youth-mentors-system")
    counselling = oauth_client(stack, "mombasa-family-counselling-system")

    mentors_id = provider_id(manager, "coast-youth-mentors", ("online_safety", "education_career"), days.today())
    provider_id(manager, "mombasa-family-counselling", ("family_support",), days.today())
    plan = {"items": [
        {"need": "education", "goal": "Back in a vocational course by the next intake",
         "intervention_type": "education_career", "provider_id": mentors_id, "starts_on": days.today(),
         "expected_end_on": (datetime.now(UTC) + timedelta(days=120)).date().isoformat()},
        {"need": "online_exposure", "goal": "Recognises and leaves recruiting chats; a weekly peer session",
         "intervention_type": "online_safety", "provider_id": mentors_id, "starts_on": days.today(),
         "expected_end_on": (datetime.now(UTC) + timedelta(days=120)).date().isoformat()},
    ]}
    # No plan for a case that is not consented (this one is merely opened).
    other = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
    accept(intake_officer, other.json()["id"])
    unconsented = eventually(lambda: case_for(manager, other.json()["id"]))["id"]
    eventually(lambda: unconsented in {c["case_id"] for c in manager.get(f"{API}/cases").json()["items"]})
    early = manager.post(f"{API}/cases/{unconsented}/plan", json=plan)
    assert early.status_code == 409 and early.headers["content-type"] == "application/problem+json"

    def planned() -> dict[str, Any] | None:
        response = manager.post(f"{API}/cases/{case_id}/plan", json=plan)
        assert response.status_code in (201, 409), response.text
        return response.json() if response.status_code == 201 else None

    made = eventually(planned)
    assert made["version"] == 1 and {i["need"] for i in made["items"]} == set(NEEDS)

    # The provider's system sees its tasks: the goal and a pseudonym, nothing of the case or the assessment.
    # (Once interventions has the consent naming it, which comes on intake's topic, not assessment's.)
    planned_ids = {i["task_id"] for i in made["items"]}
    tasks = eventually(lambda: (listed := mentors.get(f"{API}/tasks").json()["items"])
                       and planned_ids <= {t["task_id"] for t in listed} and listed)
    ours = [t for t in tasks if t["task_id"] in planned_ids]
    assert len(ours) == 2 and all(t["goal"] and t["reference"] for t in ours)
    assert subject not in str(tasks) and case_id not in str(tasks) and "online_exposure" not in str(tasks)
    # A second provider sees none of them, and cannot reach one by its id.
    assert not {t["task_id"] for t in counselling.get(f"{API}/tasks").json()["items"]} & {t["task_id"] for t in ours}
    assert counselling.get(f"{API}/tasks/{ours[0]['task_id']}").status_code == 404
    # A provider asking for the case's assessment, the referral, the plan or the flags gets nothing; assessment
    # answers as if there were no such case or assessment.
    for path in (f"/assessment/v1/tenants/{TENANT}/cases/{case_id}/assessments",
                 f"/assessment/v1/tenants/{TENANT}/cases/{case_id}",
                 f"/assessment/v1/tenants/{TENANT}/assessments/{consented['assessment_id']}",
                 f"/intake/v1/tenants/{TENANT}/referrals/{consented['referral_id']}",
                 f"{API}/cases/{case_id}/plan", f"{API}/flags"):
        refused = mentors.get(path)
        hidden = path.startswith("/assessment/")
        assert refused.status_code in ((404,) if hidden else (403, 404)), (path, refused.status_code)
        assert subject not in refused.text and "items" not in refused.json()

    # Sessions and progress.
    for task in ours:
        session = mentors.post(f"{API}/tasks/{task['task_id']}/sessions", json={
            "held_on": days.today(), "duration_minutes": 60, "attended": True, "note": "First meeting."})
        assert session.status_code == 201, session.text
    progress = mentors.post(f"{API}/tasks/{ours[0]['task_id']}/progress", json={"rating": "some_progress"})
    assert progress.status_code == 201, progress.text
    assert mentors.post(f"{API}/tasks/{ours[0]['task_id']}/sessions", json={
        "held_on": "2020-13-01", "duration_minutes": 60, "attended": True}).status_code == 422

    # Three weeks and a day without a session: the scheduled check flags both tasks.
    assert not [f for f in open_flags(manager, case_id) if f["kind"] == "no_recent_session"]
    days.move(22)
    stalled = eventually(lambda: [f for f in open_flags(manager, case_id) if f["kind"] == "no_recent_session"]
                         if len([f for f in open_flags(manager, case_id)
                                 if f["kind"] == "no_recent_session"]) == 2 else None)
    assert {f["task_id"] for f in stalled} == {t["task_id"] for t in ours}
    for flag in stalled:
        closed = manager.post(f"{API}/flags/{flag['flag_id']}/close",
                              json={"action": "provider_contacted", "note": "Mentor had been ill; sessions resume."})
        assert closed.status_code == 200, closed.text

    # A review: the education goal met, the plan kept, a reassessment asked for.
    education = next(i["task_id"] for i in made["items"] if i["need"] == "education")
    online = next(i["task_id"] for i in made["items"] if i["need"] == "online_exposure")
    review = manager.post(f"{API}/cases/{case_id}/plan/reviews", json={
        "reviewed_on": days.today(), "reassessment_requested": True,
        "goals": [{"task_id": education, "met": True}, {"task_id": online, "met": False}]})
    assert review.status_code == 201, review.text
    assert {t["task_id"]: t["status"] for t in mentors.get(f"{API}/tasks").json()["items"]}[education] == "completed"

    # Closure, with its reason and report; follow-ups at 6 and 12 months.
    closure = manager.post(f"{API}/cases/{case_id}/plan/closure", json={
        "exit_reason": "substantially_reduced",
        "closing_report": "Back in education and a regular at the youth club; concerns much reduced."})
    assert closure.status_code == 200, closure.text
    follow_ups = manager.get(f"{API}/cases/{case_id}/follow-ups").json()["items"]
    assert [f["months_after_exit"] for f in follow_ups] == [6, 12]
    assert open_flags(manager, case_id) == []

    days.move(185)
    [due] = eventually(lambda: open_flags(manager, case_id) or None)
    assert (due["kind"], due["target_id"]) == ("follow_up_due", follow_ups[0]["follow_up_id"])
    recorded = manager.put(f"{API}/cases/{case_id}/follow-ups/{due['target_id']}", json={
        "outcome": "doing_well", "in_education_or_work": True, "re_referred": False})
    assert recorded.status_code == 200, recorded.text
    assert open_flags(manager, case_id) == []
