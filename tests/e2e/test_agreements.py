"""Agreements through the gateway: the national programme sees a county's figures only under the
county's agreement, and suspending the agreement stops the flow within seconds, with no restart."""

from __future__ import annotations

import time

from tests.e2e.helpers import eventually, oauth_client

AGGREGATES = "/assessment/v1/tenants/{tenant}/aggregates/cases"
REFERENCE = "ke-mombasa-ke-national-aggregates"


def test_national_reads_county_aggregates_only_under_an_agreement_in_force(stack):
    national = oauth_client(stack, "national-coordinator")
    admin = oauth_client(stack, "platform-admin")

    def allowed():
        response = national.get(AGGREGATES.format(tenant="ke-mombasa"))
        return response.json() if response.status_code == 200 else None

    figures = eventually(allowed, timeout=60)  # the agreement reaches assessment as an event
    assert figures["suppression_threshold"] == 5
    assert all(cell["count"] is None or cell["count"] >= 5 for cell in figures["by_status"])

    assert national.get(AGGREGATES.format(tenant="ke-nairobi")).status_code == 403  # no agreement
    assert national.get("/assessment/v1/tenants/ke-mombasa/cases").status_code == 404  # no role there

    agreement = next(a for a in admin.get("/admin/v1/agreements", params={"limit": 100}).json()["items"]
                     if a["reference"] == REFERENCE)
    suspended = admin.post(f"/admin/v1/agreements/{agreement['id']}/suspend", json={"reason": "review"})
    assert suspended.status_code == 200, suspended.text
    try:
        started = time.monotonic()
        eventually(lambda: national.get(AGGREGATES.format(tenant="ke-mombasa")).status_code == 403, timeout=30)
        assert time.monotonic() - started < 30
    finally:
        reinstated = admin.post(f"/admin/v1/agreements/{agreement['id']}/activate")
    assert reinstated.status_code == 200, reinstated.text  # the session's other tests see the demo data
    eventually(allowed, timeout=30)
