"""Plans: made only for a consented case, each item tied to an assessed need and a vetted provider; versioned."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

import harambee_interventions
from harambee_common.migrations import upgrade
from tests.interventions.support import (
    Callers,
    apply,
    assessment_approved,
    case_opened,
    consented_case,
    item,
    today,
    vetted_provider,
)
from tests.support.services import rows

TENANT = "ke-plans"


def plan_url(case_id) -> str:
    return f"/v1/tenants/{TENANT}/cases/{case_id}/plan"


def outbox(database, event_type: str, subject) -> list:
    return rows(database.owner, "SELECT data FROM outbox WHERE type = :type AND subject = :subject ORDER BY seq",
                tenant=TENANT, type=event_type, subject=str(subject))


@dataclass(frozen=True)
class Planning:
    """What a plan needs, at hand for a case manager (plans:write) in the tenant."""

    client: TestClient
    database: Any
    staff: dict[str, str]

    @property
    def start(self) -> date:
        """Today on the service's clock: when the items start."""
        return today(self.client)

    def provider(self, *types: str) -> uuid.UUID:
        """A provider vetted for the intervention types (mentoring unless named)."""
        provider_id, _ = vetted_provider(self.client, self.staff, TENANT, types=types or ("mentoring",))
        return provider_id

    def case(self, *needs: str) -> tuple[uuid.UUID, uuid.UUID]:
        """A case opened and consented, its assessment having found the needs: (case_id, subject_ref)."""
        case_id, subject, _ = consented_case(self.client, TENANT, needs=list(needs))
        return case_id, subject

    def make(self, case_id, *items: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        """Asks for a plan of the items, as the case manager unless other headers are given."""
        return self.client.post(plan_url(case_id), headers=headers or self.staff, json={"items": list(items)})


@pytest.fixture
def planning(interventions, issuer) -> Planning:
    client, database = interventions
    return Planning(client=client, database=database, staff=Callers(issuer, TENANT).staff())


def test_no_plan_before_the_case_is_consented(planning):
    provider_id = planning.provider()
    case_id = uuid.uuid4()
    apply(planning.client, case_opened(TENANT, case_id=case_id))
    response = planning.make(case_id, item(provider_id, starts_on=planning.start))
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    unknown = planning.make(uuid.uuid4(), item(provider_id, starts_on=planning.start))
    assert unknown.status_code == 404


def test_a_plan_ties_each_item_to_a_need_and_publishes_its_version(planning):
    provider_id = planning.provider("mentoring", "education_career")
    case_id, subject = planning.case("education", "belonging")
    start = planning.start
    response = planning.make(
        case_id,
        item(provider_id, need="education", intervention_type="education_career", starts_on=start),
        item(provider_id, need="belonging", goal="Joins the weekly football club", starts_on=start),
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["version"] == 1 and plan["status"] == "active"
    assert sorted(i["need"] for i in plan["items"]) == ["belonging", "education"]
    assert {i["status"] for i in plan["items"]} == {"open"}
    # The first review falls due after the tenant's interval (3 months by default).
    assert 89 <= (date.fromisoformat(plan["next_review_on"]) - start).days <= 92
    [(data,)] = outbox(planning.database, "plan.versioned", subject)
    assert data["version"] == 1 and data["needs"] == ["belonging", "education"] and data["items"] == 2
    assert data["intervention_types"] == ["education_career", "mentoring"]
    assert "goal" not in str(data)  # goals stay here: codes and references only

    again = planning.make(case_id, item(provider_id, starts_on=start))
    assert again.status_code == 409


def test_an_item_for_a_need_the_assessment_did_not_find_is_refused(planning):
    provider_id = planning.provider()
    case_id, _ = planning.case("education")
    response = planning.make(case_id, item(provider_id, need="housing", starts_on=planning.start))
    assert response.status_code == 422
    assert "housing" in response.json()["detail"]


def test_a_reassessment_changes_the_needs_a_plan_may_address(planning):
    provider_id = planning.provider()
    case_id, subject = planning.case("education")
    apply(planning.client, assessment_approved(TENANT, case_id=case_id, subject_ref=subject, needs=["family"]))
    start = planning.start
    refused = planning.make(case_id, item(provider_id, starts_on=start))
    assert refused.status_code == 422
    made = planning.make(case_id, item(provider_id, need="family", starts_on=start))
    assert made.status_code == 201, made.text


def test_a_provider_not_vetted_for_the_type_or_whose_vetting_expired_gets_no_new_task(planning):
    client, staff = planning.client, planning.staff
    case_id, _ = planning.case("education")
    mentor_id = planning.provider("mentoring")
    start = planning.start
    not_vetted = planning.make(case_id, item(mentor_id, intervention_type="mental_health", starts_on=start))
    assert not_vetted.status_code == 422 and "not vetted" in not_vetted.json()["detail"]

    lapsed_id = planning.provider("mentoring")
    vetting = client.put(f"/v1/tenants/{TENANT}/providers/{lapsed_id}/vettings/mentoring", headers=staff,
                         json={"vetted_on": (start - timedelta(days=400)).isoformat(),
                               "expires_on": (start - timedelta(days=1)).isoformat()})
    assert vetting.status_code == 200 and vetting.json()["vettings"][0]["expired"] is True
    expired = planning.make(case_id, item(lapsed_id, starts_on=start))
    assert expired.status_code == 422 and "expired" in expired.json()["detail"]


def test_a_change_makes_a_new_version_keeping_named_tasks_and_ending_the_rest(planning):
    client, staff = planning.client, planning.staff
    provider_id = planning.provider("mentoring", "sports_arts")
    case_id, subject = planning.case("education", "belonging")
    start = planning.start
    plan = planning.make(
        case_id,
        item(provider_id, need="education", starts_on=start),
        item(provider_id, need="belonging", intervention_type="sports_arts", starts_on=start),
    ).json()
    kept, dropped = sorted(plan["items"], key=lambda i: i["need"] != "education")
    changed = client.put(plan_url(case_id), headers=staff, json={"based_on_version": 1, "items": [
        item(provider_id, need="education", goal="Enrolled in the mechanics course", starts_on=start,
             task_id=kept["task_id"]),
    ]})
    assert changed.status_code == 200, changed.text
    by_task = {i["task_id"]: i for i in changed.json()["items"]}
    assert changed.json()["version"] == 2
    assert by_task[kept["task_id"]]["goal"] == "Enrolled in the mechanics course"
    assert by_task[kept["task_id"]]["status"] == "open"
    assert (by_task[dropped["task_id"]]["status"], by_task[dropped["task_id"]]["stop_reason"]) == ("ended",
                                                                                                  "plan_changed")
    stale = client.put(plan_url(case_id), headers=staff, json={"based_on_version": 1, "items": [
        item(provider_id, need="education", starts_on=start, task_id=kept["task_id"])]})
    assert stale.status_code == 409

    versions = client.get(plan_url(case_id) + "/versions", headers=staff).json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert len(versions[1]["items"]) == 2 and len(versions[0]["items"]) == 1
    assert [d["version"] for (d,) in outbox(planning.database, "plan.versioned", subject)] == [1, 2]
    [(stopped,)] = outbox(planning.database, "task.stopped", subject)
    assert (stopped["task_id"], stopped["reason"]) == (dropped["task_id"], "plan_changed")


def test_a_kept_task_cannot_change_its_provider_or_need(planning):
    first, second = planning.provider(), planning.provider()
    case_id, _ = planning.case("education")
    start = planning.start
    task = planning.make(case_id, item(first, starts_on=start)).json()["items"][0]
    moved = planning.client.put(plan_url(case_id), headers=planning.staff, json={"based_on_version": 1, "items": [
        item(second, starts_on=start, task_id=task["task_id"])]})
    assert moved.status_code == 422


def test_bad_plans_are_problems_not_errors(planning):
    client, staff = planning.client, planning.staff
    provider_id = planning.provider()
    case_id, _ = planning.case("education")
    start = planning.start
    for body in (
        {"items": []},
        {"items": [item(provider_id, starts_on=start, weeks=-1)]},
        {"items": [item(provider_id, starts_on=start, goal="")]},
        {"items": [item(provider_id, starts_on=start, intervention_type="astrology")]},
        {"items": [item(uuid.uuid4(), starts_on=start)]},
        {"items": [item(provider_id, starts_on=start)], "unexpected": 1},
        {"items": [item(provider_id, starts_on=start)], "next_review_on": start.isoformat()},
        {"items": "not a list"},
    ):
        response = client.post(plan_url(case_id), headers=staff, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(plan_url("not-a-uuid"), headers=staff).status_code == 422


def test_a_case_worker_without_plans_write_reads_but_cannot_plan(planning, issuer):
    provider_id = planning.provider()
    case_id, subject = planning.case("education")
    reader = Callers(issuer, TENANT).staff(write=False)
    refused = planning.make(case_id, item(provider_id, starts_on=planning.start), headers=reader)
    assert refused.status_code == 403
    made = planning.make(case_id, item(provider_id, starts_on=planning.start))
    assert made.status_code == 201
    assert planning.client.get(plan_url(case_id), headers=reader).json()["subject_ref"] == str(subject)


def goals_of(plan: dict) -> list[str]:
    return [i["goal"] for i in plan["items"]]


def test_plan_items_keep_the_order_they_were_given_in(planning):
    client, staff = planning.client, planning.staff
    provider_id = planning.provider()
    case_id, _ = planning.case("education")
    start = planning.start
    goals = [f"Goal {n}" for n in (4, 1, 6, 2, 5, 3)]  # made together: one moment, six tasks
    made = planning.make(case_id, *(item(provider_id, goal=goal, starts_on=start) for goal in goals))
    assert made.status_code == 201, made.text
    assert goals_of(made.json()) == goals
    assert goals_of(client.get(plan_url(case_id), headers=staff).json()) == goals

    # A change keeps its tasks where they stood (whatever order it names them in); its new ones follow, in order.
    kept = [item(provider_id, goal=i["goal"], starts_on=start, task_id=i["task_id"]) for i in made.json()["items"]]
    new = [item(provider_id, goal=goal, starts_on=start) for goal in ("Goal 8", "Goal 7")]
    changed = client.put(plan_url(case_id), headers=staff,
                         json={"based_on_version": 1, "items": [*new, *reversed(kept)]})
    assert changed.status_code == 200, changed.text
    assert goals_of(changed.json()) == [*goals, "Goal 8", "Goal 7"]
    assert goals_of(client.get(plan_url(case_id), headers=staff).json()) == [*goals, "Goal 8", "Goal 7"]
    [latest, _] = client.get(plan_url(case_id) + "/versions", headers=staff).json()["items"]
    assert [i["goal"] for i in latest["items"]] == ["Goal 8", "Goal 7", *reversed(goals)]  # each version as given


def migrate_down(url: str, revision: str) -> None:
    """Takes interventions' database back to a revision with its own migrations (as the owner)."""
    config = Config()
    config.set_main_option("script_location", str(Path(harambee_interventions.__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, revision)


def test_the_migration_gives_existing_tasks_the_order_of_the_version_that_made_them(planning):
    provider_id = planning.provider()
    case_id, _ = planning.case("education")
    goals = [f"Goal {n}" for n in (3, 1, 5, 2, 4)]
    made = planning.make(case_id, *(item(provider_id, goal=goal, starts_on=planning.start) for goal in goals))
    assert made.status_code == 201, made.text

    owner = planning.database.owner
    migrate_down(owner, "0005")  # tasks as they were stored before positions
    assert not rows(owner, "SELECT 1 FROM information_schema.columns "
                           "WHERE table_name = 'tasks' AND column_name = 'position'")
    upgrade(package="harambee_interventions", url=owner)

    assert goals_of(planning.client.get(plan_url(case_id), headers=planning.staff).json()) == goals
