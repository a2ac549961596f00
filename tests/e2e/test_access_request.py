"""A person's access request gathers what every service holds about them, through the gateway."""

from __future__ import annotations

from tests.e2e.helpers import REFERRAL, TENANT, accept, case_for, eventually, oauth_client


def test_access_request_gathers_intake_and_the_other_services_parts(stack):
    partner = oauth_client(stack, "cso")
    intake_officer = oauth_client(stack, "intake-officer")
    case_worker = oauth_client(stack, "case-worker")

    submitted = partner.post(f"/intake/v1/tenants/{TENANT}/referrals", json=REFERRAL)
    assert submitted.status_code == 201, submitted.text
    referral_id = submitted.json()["id"]
    accept(intake_officer, referral_id)
    case = eventually(lambda: case_for(case_worker, referral_id))
    subject = case["subject_ref"]
    eventually(lambda: [c for c in case_worker.get(f"/interventions/v1/tenants/{TENANT}/cases").json()["items"]
                        if c["case_id"] == case["id"]])

    opened = intake_officer.post(f"/intake/v1/tenants/{TENANT}/subjects/{subject}/rights-requests",
                                 json={"kind": "access", "requested_by": "person"})
    assert opened.status_code == 201, opened.text
    response = intake_officer.post(f"/intake/v1/tenants/{TENANT}/rights-requests/{opened.json()['id']}/fulfilment")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["complete"] is True, result["request"].get("gaps")
    others = result["document"]["other_services"]
    assert case["id"] in {c["id"] for c in others["assessment"][subject]["cases"]}
    assert case["id"] in {c["case_id"] for c in others["interventions"][subject]["known_cases"]}
    assert result["document"]["identity"][0]["family_name"] == REFERRAL["person"]["family_name"]

    # A case worker may not gather a person's data from other services.
    refused = case_worker.get(f"/assessment/v1/tenants/{TENANT}/subjects/{subject}/export")
    assert refused.status_code == 403
