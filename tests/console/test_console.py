"""The console in a real browser: each demo person signs in through the gateway, sees their pages, and
is refused the others. Debian's Chromium through Playwright, against every process as `make run` starts
them. Each test saves its pages' screenshots for the README (the `screenshot` fixture says where)."""

from __future__ import annotations

import csv
import io
import re
import secrets
import shlex
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser

from harambee_common.auth import Principal, TenantPrincipal
from harambee_common.components import ASSESSMENT
from harambee_common.db import create_db_engine, session_factory, unit_of_work
from harambee_common.event_source import EventSource
from harambee_stack.stack import Stack
from tests.console.browser import (
    PAGE_BUDGET_BYTES,
    Screenshots,
    accessibility_violations,
    page_weight,
    person,
    signed_in,
)
from tests.e2e.helpers import REFERRAL, TENANT, accept, audit_entries, case_for, eventually, oauth_client

EMERGENCY_REASON = "Disclosure of imminent harm"


@dataclass(frozen=True)
class Activity:
    """What the demo programme did before the people open the console: one case, one emergency read."""

    subject: str
    case_id: str
    emergency_actor: str


@pytest.fixture(scope="module")
def activity(stack: Stack) -> Activity:
    """A referral accepted into a case and read by a case worker, and a read made under an emergency."""
    partner = oauth_client(stack, "cso")
    intake_officer = oauth_client(stack, "intake-officer")
    case_worker = oauth_client(stack, "case-worker")
    compliance = oauth_client(stack, "mombasa-compliance")
    created = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
    assert created.status_code == 201, created.text
    accept(intake_officer, created.json()["id"])
    case = eventually(lambda: case_for(case_worker, created.json()["id"]))
    assert case_worker.get(f"/assessment/v1/tenants/{TENANT}/cases/{case['id']}").status_code == 200
    # No service offers a break-the-glass read over its API yet: the test records one as a service does,
    # in assessment's outbox, and assessment's own relay publishes it.
    actor = "emergency-reader-1"
    reader = TenantPrincipal(principal=Principal(subject=actor, client_id="assessment-desk", scopes=frozenset(),
                                                 tenants={TENANT: frozenset({"case_worker"})}, organisation=None),
                             tenant=TENANT)
    engine = create_db_engine(stack.database(ASSESSMENT.name).app, pool_size=1)
    try:
        with unit_of_work(session_factory(engine), TENANT) as uow:
            EventSource.of(ASSESSMENT).record_access(
                uow, principal=reader, subject=case["subject_ref"], resource=f"case/{case['id']}", fields=["status"],
                purpose="safeguarding", emergency_reason=EMERGENCY_REASON)
    finally:
        engine.dispose()
    # The panel meets next week with the case on its agenda.
    case_manager = oauth_client(stack, "mombasa-case-manager")
    meeting = case_manager.post(f"/assessment/v1/tenants/{TENANT}/panel-meetings", json={
        "held_on": (date.today() + timedelta(days=7)).isoformat(), "chair": "chair-1",
        "attendees": [{"person": "chair-1", "agency": "county-programme"}, {"person": "member-2", "agency": "health"}],
        "agenda": [case["id"]]})
    assert meeting.status_code == 201, meeting.text
    wanted = {"case.opened", "access.recorded"}
    eventually(lambda: wanted <= {e["type"] for e in audit_entries(compliance, subject=case["subject_ref"])})
    eventually(lambda: compliance.get(f"/audit/v1/tenants/{TENANT}/emergency-accesses").json()["items"])
    # A checkpoint covers the entries so far (audit signs every few entries): the export has them.
    eventually(lambda: compliance.get(f"/audit/v1/tenants/{TENANT}/checkpoints/latest").status_code == 200)
    return Activity(subject=case["subject_ref"], case_id=case["id"], emergency_actor=actor)


# --- the compliance officer ----------------------------------------------------------------------


def test_a_compliance_officer_searches_the_log_and_sees_who_accessed_a_person(
    stack: Stack, browser: Browser, activity: Activity, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.compliance"))
    with page.expect_navigation():
        page.get_by_role("link", name="Compliance officer · ke-mombasa").first.click()
    page.get_by_label("Subject reference").fill(activity.subject)
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    rows = page.locator("table tbody tr")
    types = set(rows.locator("td:nth-child(3)").all_inner_texts())
    assert {"referral.received", "case.opened", "access.recorded"} <= types
    assert re.search(r"\d{4}.*EAT", rows.first.locator("td:nth-child(2)").inner_text())
    screenshot(page, "compliance-search")

    with page.expect_navigation():
        rows.first.get_by_role("link", name=activity.subject).click()
    assert page.url.startswith(f"{stack.gateway_url}/console/t/ke-mombasa/audit/accesses")
    actors = set(page.locator("table tbody td:nth-child(5)").all_inner_texts())
    assert activity.emergency_actor in actors
    screenshot(page, "compliance-accesses")

    # Filtering by type narrows to that type only.
    page.goto("/console/t/ke-mombasa/audit?" + f"subject={activity.subject}&type=case.opened")
    assert set(page.locator("table tbody td:nth-child(3)").all_inner_texts()) == {"case.opened"}
    context.close()


def test_a_compliance_officer_signs_off_an_emergency_access(
    stack: Stack, browser: Browser, activity: Activity, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.compliance"))
    page.goto("/console/t/ke-mombasa/audit/emergency")
    card = page.locator("section.card", has_text=activity.emergency_actor).first
    assert EMERGENCY_REASON in card.inner_text()
    screenshot(page, "compliance-emergency")
    seq = card.get_attribute("aria-labelledby").removeprefix("access-")
    card.get_by_label("Sign off: the access was justified").check()
    card.get_by_label("Note (references only, never names)").fill("Reviewed with the case worker's manager.")
    with page.expect_navigation():
        card.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("status").first.inner_text() == f"Your decision on access {seq} is recorded in the log."

    compliance = oauth_client(stack, "mombasa-compliance")
    reviewed = compliance.get(f"/audit/v1/tenants/{TENANT}/emergency-accesses/{seq}").json()
    assert reviewed["status"] == "signed_off"
    assert reviewed["review"]["note"] == "Reviewed with the case worker's manager."
    # Signed by the officer as a person (their token's subject), not by the console's client.
    console = next(a for a in stack.credentials["apps"] if a["name"] == "harambee-console")
    assert reviewed["review"]["reviewed_by"] not in ("", console["client_id"])
    page.goto("/console/t/ke-mombasa/audit/emergency?status=signed_off")
    assert page.locator(f"#access-{seq}").count() == 1
    context.close()


def test_the_export_downloads_and_verifies_with_the_command_the_page_shows(
    stack: Stack, browser: Browser, activity: Activity, tmp_path: Path, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.compliance"))
    page.goto("/console/t/ke-mombasa/audit/export")
    screenshot(page, "compliance-export")
    command = page.locator("#verify-command").inner_text()
    with page.expect_download() as download:
        page.locator("a.button[download]").click()
    argv = shlex.split(command)
    assert argv[:2] == ["harambee-audit", "verify"]
    download.value.save_as(tmp_path / argv[2])
    verifier = Path(sys.executable).parent / "harambee-audit"
    checked = subprocess.run([str(verifier), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # And an export with an entry taken out fails it.
    exported = tmp_path / argv[2]
    lines = exported.read_text().splitlines(keepends=True)
    first_entry = next(i for i, line in enumerate(lines) if '"kind":"entry"' in line)
    exported.write_text("".join(lines[:first_entry] + lines[first_entry + 1:]))
    tampered = subprocess.run([str(verifier), *argv[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert tampered.returncode != 0
    context.close()


def test_a_compliance_officer_sees_no_case_content_and_no_programme_pages(
    stack: Stack, browser: Browser, activity: Activity, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.compliance"))
    for path in ("/console/t/ke-mombasa/programme", "/console/t/ke-national/national"):
        assert page.goto(path).status == 404
    for path in (f"/console/t/ke-mombasa/audit?subject={activity.subject}",
                 f"/console/t/ke-mombasa/audit/accesses?subject={activity.subject}",
                 "/console/t/ke-mombasa/audit/emergency?status=all"):
        page.goto(path)
        text = page.content()
        for identifying in ("Juma", "Otieno", "2007-09-12", REFERRAL["concern"]):
            assert identifying not in text
    page.goto("/console/t/ke-mombasa/audit/alerts")
    screenshot(page, "compliance-alerts")
    page.goto("/console/")
    screenshot(page, "compliance-home")
    # Another county's log is refused by the audit service itself (no agreement lets Mombasa read it).
    assert page.goto("/console/t/ke-nairobi/audit").status in (403, 404)
    context.close()


def test_a_national_compliance_officer_reads_mombasas_log_under_its_agreement_only(
    stack: Stack, browser: Browser, activity: Activity
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "national.compliance"))
    with page.expect_navigation():
        page.get_by_role("link", name="Audit log · ke-mombasa").click()
    assert page.url == f"{stack.gateway_url}/console/t/ke-mombasa/audit"
    assert page.locator("table tbody tr").count() > 0
    assert page.goto("/console/t/ke-nairobi/audit").status == 403
    context.close()


# --- the county programme manager ----------------------------------------------------------------


def test_a_programme_manager_sees_their_county_and_no_other(
    stack: Stack, browser: Browser, activity: Activity, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.manager"))
    with page.expect_navigation():
        page.get_by_role("link", name="Programme manager · ke-mombasa").first.click()
    cases = page.locator("section", has=page.locator("#cases"))
    assert cases.locator("svg[role=img] title").text_content() == "Cases by status"
    counts = dict(zip(cases.locator("tbody td:nth-child(1)").all_inner_texts(),
                      cases.locator("tbody td:nth-child(2)").all_inner_texts(), strict=True))
    assert int(counts["open"]) >= 1  # its own figures: nothing suppressed for the county's own manager
    agenda = page.locator("section", has=page.locator("#agenda"))
    assert activity.case_id in agenda.inner_text()
    # Interventions answers for the manager: no plan has stalled yet (test_flags.py, run after, closes one).
    flags = page.locator("section", has=page.locator("#flags"))
    assert "Nothing is stalled or overdue." in flags.inner_text()
    screenshot(page, "programme")
    for path in ("/console/t/ke-nairobi/programme", "/console/t/ke-mombasa/audit", "/console/t/ke-national/national"):
        assert page.goto(path).status == 404, path
    context.close()


# --- the national coordinator --------------------------------------------------------------------


def test_a_national_coordinator_sees_counties_side_by_side_with_small_counts_suppressed(
    stack: Stack, browser: Browser, activity: Activity, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "national.coordinator"))
    with page.expect_navigation():
        page.get_by_role("link", name="National coordinator · ke-national").first.click()
    table = page.locator("table").first
    headers = table.locator("thead th").all_inner_texts()
    assert headers[1:] == ["ke-mombasa", "ke-nairobi"]
    open_row = table.locator("tbody tr", has=page.locator("th", has_text="open"))
    mombasa, nairobi = open_row.locator("td").all_inner_texts()
    # Mombasa has fewer than five open cases: suppressed under its agreement, never shown as 0.
    assert mombasa == "suppressed"
    assert nairobi == "no agreement"
    screenshot(page, "national")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    open_cell = next(r for r in rows if r["county"] == "ke-mombasa" and r["key"] == "open")
    assert (open_cell["count"], open_cell["suppressed"]) == ("", "yes")
    assert any(r["county"] == "ke-nairobi" and r["available"] == "no" for r in rows)

    with page.expect_navigation():
        page.get_by_role("link", name="ke-mombasa", exact=True).first.click()
    assert page.locator("svg[role=img]").count() >= 1  # the case counts, and each indicator monitoring releases
    assert "suppressed" in page.locator("table tbody").first.inner_text()
    screenshot(page, "national-trend")
    for path in ("/console/t/ke-mombasa/programme", "/console/t/ke-mombasa/audit"):
        assert page.goto(path).status == 404, path
    context.close()


# --- for everyone --------------------------------------------------------------------------------

PAGES = {
    "mombasa.compliance": ["/console/", "/console/t/ke-mombasa/audit", "/console/t/ke-mombasa/audit/accesses",
                           "/console/t/ke-mombasa/audit/emergency?status=all", "/console/t/ke-mombasa/audit/alerts",
                           "/console/t/ke-mombasa/audit/export"],
    "mombasa.manager": ["/console/t/ke-mombasa/programme"],
    "national.coordinator": ["/console/t/ke-national/national", "/console/t/ke-national/national/counties/ke-mombasa"],
}


@pytest.mark.parametrize("username", sorted(PAGES))
def test_every_page_is_accessible_fits_the_window_and_is_under_200_kb(
    stack: Stack, browser: Browser, activity: Activity, username: str
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, username))
    for path in PAGES[username]:
        weight = page_weight(page, path)
        assert 0 < weight < PAGE_BUDGET_BYTES, (path, weight)
        assert accessibility_violations(page) == [], path
        # Wide tables scroll in their own region: the page itself never scrolls sideways at 1200 px.
        assert page.evaluate("document.documentElement.scrollWidth") <= 1200, path
        # Keyboard: the first Tab reaches the skip link, which leads to the main content.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main", path
    context.close()


def test_the_welcome_and_refusal_pages_are_accessible(
    stack: Stack, browser: Browser, screenshot: Screenshots
) -> None:
    context = browser.new_context(base_url=stack.gateway_url)
    page = context.new_page()
    page.goto("/console/")
    assert accessibility_violations(page) == []
    screenshot(page, "welcome")
    context.close()


def test_the_language_follows_the_browser_and_can_be_switched(
    stack: Stack, browser: Browser, activity: Activity, screenshot: Screenshots
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.compliance"),
                              locale="sw-KE")
    assert page.locator("html").get_attribute("lang") == "sw"
    assert page.locator("html").get_attribute("dir") == "ltr"
    page.goto(f"/console/t/ke-mombasa/audit?subject={activity.subject}")
    assert page.get_by_role("button", name="Tafuta").count() == 1
    assert page.get_by_role("button", name="Ondoka").count() == 1
    assert "EAT" in page.locator("table tbody td:nth-child(2)").first.inner_text()
    assert accessibility_violations(page) == []
    screenshot(page, "compliance-search-sw")
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith(f"/console/t/ke-mombasa/audit?subject={activity.subject}")
    assert page.get_by_role("button", name="Search").count() == 1
    context.close()


def test_forms_without_their_csrf_token_or_from_another_origin_are_refused(
    stack: Stack, browser: Browser, activity: Activity
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.compliance"))
    page.goto("/console/t/ke-mombasa/audit/emergency?status=all")
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    request = context.request
    missing = request.post("/console/t/ke-mombasa/audit/emergency/1/review",
                           form={"decision": "flagged", "note": "x"}, max_redirects=0)
    assert missing.status == 403
    foreign = request.post("/console/sign-out", form={"csrf": token}, headers={"Origin": "https://elsewhere.example"},
                           max_redirects=0)
    assert foreign.status == 403
    # Still signed in after both; the real sign-out form signs out.
    assert page.goto("/console/t/ke-mombasa/audit").status == 200
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("link", name="Sign in").count() == 1
    page.goto("/console/t/ke-mombasa/audit")
    assert "/oauth/authorize" in page.url  # sent to sign in again
    context.close()


def test_the_session_cookie_is_http_only_same_site_and_scoped_to_the_console(
    stack: Stack, browser: Browser
) -> None:
    context, page = signed_in(browser, stack.gateway_url, person(stack.credentials, "mombasa.manager"))
    headers = page.goto("/console/t/ke-mombasa/programme").headers
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script runs
    assert (headers["x-frame-options"], headers["cache-control"]) == ("DENY", "no-store")
    [session] = [c for c in context.cookies() if c["name"] == "harambee_console"]
    assert (session["httpOnly"], session["sameSite"], session["path"]) == (True, "Lax", "/console")
    # The token is sealed: the cookie's value is not a JWT anyone could replay at an API.
    assert session["value"].count(".") < 2
    answered = httpx.get(f"{stack.gateway_url}/audit/v1/tenants/{TENANT}/entries",
                         headers={"Authorization": f"Bearer {session['value']}"})
    assert answered.status_code == 401
    # A callback this browser did not start is refused; the language switch never leaves the console.
    assert page.goto("/console/callback?code=forged&state=forged").status == 400
    switched = context.request.get("/console/language?lang=sw&next=//elsewhere.example/x", max_redirects=0)
    assert switched.status == 303 and switched.headers["location"] == "/console/"
    context.close()


def test_a_person_whose_programme_requires_a_second_factor_signs_in_with_it(stack: Stack, browser: Browser) -> None:
    admin = oauth_client(stack, "platform-admin")
    tenant = f"ke-totp-{uuid.uuid4().hex[:6]}"
    created = admin.post("/admin/v1/tenants", json={"slug": tenant, "name": "A county that requires TOTP",
                                                    "kind": "county", "require_totp": True})
    assert created.status_code == 201, created.text
    username, password = f"manager-{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(16)
    person_id = admin.post("/admin/v1/people", json={"username": username, "password": password}).json()["id"]
    assert admin.post(f"/admin/v1/people/{person_id}/roles",
                      json={"tenant": tenant, "role": "programme_manager"}).status_code == 201
    # The second factor reaches the person only through a one-time enrolment (the admin API hands out none).
    issued = admin.post(f"/admin/v1/people/{person_id}/enrolments", json={"password": False, "second_factor": True})
    assert issued.status_code == 201, issued.text
    token = issued.json()["enrolment_url"].partition("#")[2]
    enrolled = httpx.post(f"{stack.gateway_url}/enrolment", json={"token": token})
    assert enrolled.status_code == 200, enrolled.text
    secret = enrolled.json()["second_factor"]["secret"]

    context = browser.new_context(base_url=stack.gateway_url)
    page = context.new_page()
    page.goto("/console/sign-in")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("form[method=post] button[type=submit]").click()
    assert page.get_by_role("alert").count() == 1  # the gateway's form asks for the code
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=otp]", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.locator("form[method=post] button[type=submit]").click()
    page.wait_for_url(f"{stack.gateway_url}/console/")
    assert page.get_by_role("link", name=f"Programme manager · {tenant}").count() >= 1
    assert page.goto(f"/console/t/{tenant}/programme").status == 200
    context.close()
