"""A county programme manager closes a stalled-plan flag from the console, and interventions and audit have it.

A consented case is planned with one task; the stack's clock is moved past the stall days (never slept
on), so interventions' scheduled check raises a `no_recent_session` flag. The manager opens it on the
programme page in the browser, records the action taken, and the flag is closed in interventions (read
back through its API, with the action, the note and who closed it) and `flag.closed` is in the county's
audit log under the manager's own id.

This module runs after test_console.py (pytest takes a directory's modules in name order): its case's
panel meeting is held today, and would otherwise be the agenda that test_console.py expects to see.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from harambee_stack.stack import Stack
from tests.console.browser import Screenshots, accessibility_violations, person, signed_in
from tests.e2e.helpers import TENANT, audit_entries, consented_case, eventually, oauth_client
from tests.e2e.test_interventions_journey import provider_id

API = f"/interventions/v1/tenants/{TENANT}"
STALL_DAYS = 21  # interventions' default `stall_days`
NOTE = "Called the mentor: away for two weeks, sessions resume on Monday."


@pytest.fixture
def stalled(stack: Stack) -> Iterator[dict[str, Any]]:
    """A planned case whose only task has had no session for longer than the stall days: its open flag."""
    consented = consented_case(stack, needs=["education"])
    manager = oauth_client(stack, "mombasa-case-manager")
    today = datetime.now(UTC).date()
    mentors = provider_id(manager, "coast-youth-mentors", ("education_career",), today.isoformat())

    def planned() -> dict[str, Any] | None:
        # Interventions learns of the consent from assessment's event: a 409 until it has.
        response = manager.post(f"{API}/cases/{consented['case_id']}/plan", json={"items": [{
            "need": "education", "goal": "Back in a vocational course by the next intake",
            "intervention_type": "education_career", "provider_id": mentors, "starts_on": today.isoformat(),
            "expected_end_on": (today + timedelta(days=120)).isoformat()}]})
        assert response.status_code in (201, 409), response.text
        return response.json() if response.status_code == 201 else None

    eventually(planned)
    stack.move_clock(days=STALL_DAYS + 1)
    try:
        [flag] = eventually(lambda: flags(manager, case_id=consented["case_id"]) or None)
        assert flag["kind"] == "no_recent_session"
        yield {**flag, "subject_ref": consented["subject_ref"]}
    finally:
        stack.move_clock(days=-(STALL_DAYS + 1))  # the stack's later tests see today again


def flags(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/flags", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_programme_manager_closes_a_stalled_plan_flag_from_the_console(
    stack: Stack, browser: Browser, stalled: dict[str, Any], screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.manager"))
    page.goto(f"/console/t/{TENANT}/programme")
    section = page.locator("section", has=page.locator("#flags"))
    row = section.locator("tbody tr", has_text=stalled["case_id"])
    assert row.locator("td").first.inner_text() == "no_recent_session"
    assert accessibility_violations(page) == []  # the flag's form: labelled, keyboard-reachable
    row.get_by_label("Action taken").select_option("provider_contacted")
    row.get_by_label("Note").fill(NOTE)
    screenshot(page, "programme-flag", part=section)
    with page.expect_navigation():
        row.get_by_role("button", name="Close flag").click()
    assert page.url.endswith(f"/console/t/{TENANT}/programme?closed={stalled['flag_id']}#flags")
    assert section.get_by_role("status").inner_text() == "The flag is closed; interventions recorded your action."
    assert section.locator("tbody tr", has_text=stalled["case_id"]).count() == 0
    context.close()

    # Interventions has it closed, with the action, the note and the manager as the one who closed it.
    manager = oauth_client(stack, "mombasa-case-manager")
    assert flags(manager, case_id=stalled["case_id"]) == []
    [closed] = flags(manager, case_id=stalled["case_id"], status="closed")
    assert (closed["flag_id"], closed["action"], closed["note"]) == (stalled["flag_id"], "provider_contacted", NOTE)
    assert closed["closed_at"] is not None
    admin = oauth_client(stack, "platform-admin")
    people = admin.get("/admin/v1/people", params={"limit": 500}).json()["items"]
    manager_id = next(p["id"] for p in people if p["username"] == "mombasa.manager")

    # Audit logged the closure under the manager's id; the note (free text) stayed in interventions.
    compliance = oauth_client(stack, "mombasa-compliance")
    [entry] = eventually(lambda: [e for e in audit_entries(compliance, subject=stalled["subject_ref"])
                                  if e["type"] == "flag.closed"] or None)
    assert entry["data"]["flag_id"] == stalled["flag_id"]
    assert (entry["data"]["action"], entry["data"]["actor"]) == ("provider_contacted", manager_id)
    assert NOTE not in str(entry)
