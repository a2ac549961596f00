"""A county registers as providers only organisations the registry has working in it."""

from __future__ import annotations

import uuid

from tests.interventions.support import Callers, registered_organisation

TENANT = "ke-providers"


def test_only_a_registry_organisation_working_in_the_tenant_becomes_a_provider(interventions, issuer):
    client, _ = interventions
    staff = Callers(issuer, TENANT).staff()
    url = f"/v1/tenants/{TENANT}/providers"
    unknown = client.post(url, headers=staff, json={"organisation": f"nobody-{uuid.uuid4().hex[:8]}"})
    assert unknown.status_code == 422 and "registry" in unknown.json()["detail"]

    elsewhere = f"mentors-{uuid.uuid4().hex[:8]}"
    registered_organisation(client, elsewhere, tenants=["ke-somewhere-else"])
    assert client.post(url, headers=staff, json={"organisation": elsewhere}).status_code == 422
    # The registry adds this county to the tenants it works in: now it may be registered here.
    registered_organisation(client, elsewhere, tenants=["ke-somewhere-else", TENANT], updated=True)
    registered = client.post(url, headers=staff, json={"organisation": elsewhere})
    assert registered.status_code == 201, registered.text
    assert registered.json()["organisation"] == elsewhere
