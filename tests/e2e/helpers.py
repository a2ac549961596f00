"""What an end-to-end test does as a user would: OAuth clients against the gateway, bounded polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from authlib.integrations.httpx_client import OAuth2Client

from harambee_stack.stack import Stack

T = TypeVar("T")
TENANT = "ke-mombasa"
REFERRAL = {
    "person": {"given_name": "Juma", "family_name": "Otieno", "date_of_birth": "2007-09-12"},
    "source_type": "education",
    "concern": "Teacher reports withdrawal and new contacts urging violence.",
    "indicators": ["sharing_violent_material"],
}


def demo_client(stack: Stack, name_part: str) -> dict[str, Any]:
    """The demo client whose name contains name_part."""
    return next(c for c in stack.credentials["clients"] if name_part in c["name"].lower())


def oauth_client(stack: Stack, name_part: str, *, auth_method: str = "client_secret_basic") -> OAuth2Client:
    """An authlib OAuth2 client holding a fresh client-credentials token, fetched anew when it expires.

    (A fault test on a loaded machine outlives a token: without the endpoint and grant named here, authlib
    raises token_invalid instead of fetching another.)
    """
    creds = demo_client(stack, name_part)
    client = OAuth2Client(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        token_endpoint_auth_method=auth_method,
        base_url=stack.gateway_url,
        timeout=15,
        token_endpoint=f"{stack.gateway_url}/oauth/token",
        grant_type="client_credentials",
    )
    client.fetch_token(grant_type="client_credentials")
    return client


def eventually(probe: Callable[[], T | None], *, timeout: float = 60, interval: float = 0.3) -> T:
    """Polls probe until it returns something truthy, for at most timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"nothing after {timeout}s")


def case_for(case_worker: httpx.Client, referral_id: str) -> dict[str, Any] | None:
    """The case assessment opened for a referral, if it has."""
    response = case_worker.get(f"/assessment/v1/tenants/{TENANT}/cases", params={"referral_id": referral_id})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0] if items else None


def audit_entries(compliance: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """Every audit entry matching the filters (all pages, bounded)."""
    entries: list[dict[str, Any]] = []
    params: dict[str, str] = {**filters, "limit": "500"}
    for _ in range(20):
        response = compliance.get(f"/audit/v1/tenants/{TENANT}/entries", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        entries += page["items"]
        if not page["next_cursor"]:
            return entries
        params["cursor"] = page["next_cursor"]
    return entries


def accept(intake_officer: httpx.Client, referral_id: str) -> None:
    """Screens a referral as accepted for assessment (the ETag guards against a concurrent screener)."""
    url = f"/intake/v1/tenants/{TENANT}/referrals/{referral_id}"
    etag = intake_officer.get(url).headers["etag"]
    response = intake_officer.post(f"{url}/screening", json={"outcome": "accept"}, headers={"If-Match": etag})
    assert response.status_code == 200, response.text


def consented_case(stack: Stack, *, needs: list[str]) -> dict[str, str]:
    """A case taken along the real path to consent (lifecycle steps 1 to 6, assessment's e2e tells each step):
    referral, screening, an assessment naming `needs` approved by a second person, a quorate panel's adoption,
    the parent's consent at intake. Returns its case_id, subject_ref, referral_id and assessment_id."""
    partner, intake_officer = oauth_client(stack, "cso"), oauth_client(stack, "intake-officer")
    manager, assessor = oauth_client(stack, "mombasa-case-manager"), oauth_client(stack, "mombasa-assessor")
    chair = oauth_client(stack, "mombasa-panel-chair")
    assessment = f"/assessment/v1/tenants/{TENANT}"
    created = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
    assert created.status_code == 201, created.text
    accept(intake_officer, created.json()["id"])
    case = eventually(lambda: case_for(manager, created.json()["id"]))
    case_id, subject = case["id"], case["subject_ref"]
    assessor_subject = assessor.get(f"{assessment}/me").json()["subject"]
    assert manager.post(f"{assessment}/cases/{case_id}/assignments",
                        json={"assessor": assessor_subject}).status_code == 201
    framework = next(f["id"] for f in assessor.get(f"{assessment}/frameworks").json()["items"]
                     if f["code"] == "concerns-and-strengths")
    assessment_id = assessor.post(f"{assessment}/cases/{case_id}/assessments",
                                  json={"framework_id": framework}).json()["id"]
    assert assessor.post(f"{assessment}/assessments/{assessment_id}/contributions",
                         json={"ratings": {"social_online": "present"}}).status_code == 201
    submitted = assessor.post(f"{assessment}/assessments/{assessment_id}/submit",
                              json={"summary": "Needs support.", "needs": needs, "management_plan": "Support."})
    assert submitted.status_code == 200, submitted.text
    assert manager.post(f"{assessment}/assessments/{assessment_id}/approve").status_code == 200
    chair_subject = chair.get(f"{assessment}/me").json()["subject"]
    today = datetime.now(UTC).date()
    meeting = manager.post(f"{assessment}/panel-meetings", json={
        "held_on": today.isoformat(), "chair": chair_subject, "agenda": [case_id],
        "attendees": [{"person": chair_subject, "agency": "mombasa-county-programme"},
                      {"person": "health-lead", "agency": "mombasa-county-health"},
                      {"person": "cso-lead", "agency": "mombasa-youth-cso"}]})
    assert meeting.status_code == 201, meeting.text
    decided = chair.post(f"{assessment}/panel-meetings/{meeting.json()['id']}/decisions", json={
        "case_id": case_id, "outcome": "adopt", "reasons": "Shared concern; the family asks for support.",
        "next_review_on": (today + timedelta(days=90)).isoformat()})
    assert decided.status_code == 201, decided.text
    consent = intake_officer.post(f"/intake/v1/tenants/{TENANT}/subjects/{subject}/consents", json={
        "given_by": "parent", "giver_name": "Parent of the young person", "purposes": ["support"],
        "recipients": ["Mombasa County referral programme", "coast-youth-mentors"], "method": "written",
        "given_at": datetime.now(UTC).isoformat(), "evidence": "Signed form"})
    assert consent.status_code == 201, consent.text
    eventually(lambda: manager.get(f"{assessment}/cases/{case_id}").json()["status"] == "consented")
    return {"case_id": case_id, "subject_ref": subject, "referral_id": created.json()["id"],
            "assessment_id": assessment_id}
