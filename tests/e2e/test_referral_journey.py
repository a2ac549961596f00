"""The first slice as a user lives it: every process running, everything through the gateway."""

from __future__ import annotations

import httpx

from harambee_common.components import SERVICES
from tests.e2e.helpers import (
    REFERRAL,
    TENANT,
    accept,
    audit_entries,
    case_for,
    demo_client,
    eventually,
    oauth_client,
)


def test_referral_opens_a_case_seen_by_interventions_and_audited(stack):
    partner = oauth_client(stack, "cso")
    intake_officer = oauth_client(stack, "intake-officer")
    case_worker = oauth_client(stack, "case-worker", auth_method="client_secret_post")
    compliance = oauth_client(stack, "compliance")

    response = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
    assert response.status_code == 201, response.text
    referral_id = response.json()["id"]
    accept(intake_officer, referral_id)

    case = eventually(lambda: case_for(case_worker, referral_id))
    assert case["status"] == "open"
    subject = case["subject_ref"]

    known = eventually(lambda: [
        c for c in case_worker.get(f"/interventions/v1/tenants/{TENANT}/cases").json()["items"]
        if c["case_id"] == case["id"]
    ])
    assert known[0]["subject_ref"] == subject

    def audited():
        # Repeat referrals of one person share a subject: keep this referral's and its case's entries.
        ours = {referral_id, case["id"], f"case/{case['id']}"}
        types = [e["type"] for e in audit_entries(compliance, subject=subject)
                 if ours & {e["data"].get("referral_id"), e["data"].get("case_id"), e["data"].get("resource")}]
        wanted = {"referral.received", "referral.accepted", "case.opened", "access.recorded"}
        return types if wanted <= set(types) else None

    types = eventually(audited)
    assert types.count("referral.received") == 1 and types.count("case.opened") == 1
    for entry in audit_entries(compliance, subject=subject):
        assert "Juma" not in str(entry) and "Otieno" not in str(entry)


def test_partner_sees_its_referral_status_but_not_cases_or_audit(stack):
    partner = oauth_client(stack, "cso")
    created = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL).json()
    status = partner.get(f"/intake/v1/tenants/{TENANT}/referrals/{created['id']}")
    assert status.status_code == 200 and set(status.json()) == {"id", "status", "received_at"}
    assert partner.get(f"/assessment/v1/tenants/{TENANT}/cases").status_code == 404  # assessment hides itself
    assert partner.get(f"/audit/v1/tenants/{TENANT}/entries").status_code == 403
    assert partner.get("/intake/v1/tenants/ke-nairobi/referrals").status_code == 404


def test_services_refuse_requests_that_bypass_the_gateway_without_a_token(stack):
    for name in (service.name for service in SERVICES):
        response = httpx.get(f"{stack.url(name)}/v1/tenants/{TENANT}/me", timeout=10)
        assert response.status_code == 401, name
        assert response.headers["content-type"] == "application/problem+json"


def test_a_token_is_verified_by_the_service_itself_when_called_directly(stack):
    partner = oauth_client(stack, "cso")
    token = partner.token["access_token"]
    response = httpx.get(f"{stack.url('intake')}/v1/tenants/{TENANT}/me",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["roles"] == ["partner"]


def test_gateway_errors_are_problem_details(stack):
    unknown = httpx.get(f"{stack.gateway_url}/nowhere/at/all", timeout=10)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    creds = demo_client(stack, "cso")
    bad = httpx.post(f"{stack.gateway_url}/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(creds["client_id"], "wrong-secret"), timeout=10)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    no_token = httpx.get(f"{stack.gateway_url}/intake/v1/tenants/{TENANT}/referrals", timeout=10)
    assert no_token.status_code == 401


def test_every_component_is_ready_and_publishes_its_openapi(stack):
    for name in (service.name for service in SERVICES):
        assert httpx.get(f"{stack.url(name)}/readyz", timeout=10).status_code == 200
        assert httpx.get(f"{stack.url(name)}/openapi.json", timeout=10).json()["paths"]
    metadata = httpx.get(f"{stack.gateway_url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["token_endpoint"].endswith("/oauth/token")
    assert httpx.get(metadata["jwks_uri"], timeout=10).json()["keys"]
