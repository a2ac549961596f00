"""County figures: exact for the county's managers; for the national programme only under an agreement,
with small counts suppressed; suspension stops the flow at the next request."""

from __future__ import annotations

import pytest

from tests.assessment.support import deliver, referral_accepted
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows

COUNTY = "ke-mombasa"
URL = f"/v1/tenants/{COUNTY}/aggregates/cases"


@pytest.fixture(scope="module")
def assessment(assessment):
    """The service (conftest's), with seven cases in the county and two in Nairobi."""
    client, _ = assessment
    for tenant, n in ((COUNTY, 7), ("ke-nairobi", 2)):
        for _ in range(n):
            assert deliver(client, referral_accepted(tenant))
    return assessment


def national(issuer) -> dict[str, str]:
    return issuer.headers(tenants={"ke-national": ["national_coordinator"]}, scope="aggregates:read",
                          sub="national-coordinator")


def test_county_manager_sees_exact_counts_of_the_county_only(assessment, issuer):
    client, _ = assessment
    manager = issuer.headers(tenants={COUNTY: ["programme_manager"]}, scope="aggregates:read")
    body = client.get(URL, headers=manager).json()
    assert body["suppression_threshold"] is None
    assert {c["key"]: c["count"] for c in body["by_status"]} == {"open": 7}


def test_case_worker_may_not_read_aggregates(assessment, issuer):
    client, _ = assessment
    worker = issuer.headers(tenants={COUNTY: ["case_worker"]}, scope="aggregates:read cases:read")
    assert client.get(URL, headers=worker).status_code == 403


def test_national_coordinator_needs_an_agreement_and_the_refusal_is_recorded(assessment, issuer):
    client, database = assessment
    response = client.get("/v1/tenants/ke-nairobi/aggregates/cases", headers=national(issuer))
    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    refused = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.refused' AND tenant_id = :t",
                   t="ke-nairobi")
    assert refused and refused[-1].data["party"] == {"kind": "tenant", "id": "ke-national"}


def test_agreement_allows_suppressed_aggregates_until_it_is_suspended(assessment, issuer):
    client, database = assessment
    view = agreement_view(tenant=COUNTY, parties=[("tenant", "ke-national")], operations=["read_aggregates"],
                          threshold=8)
    deliver(client, agreement_event(view))

    body = client.get(URL, headers=national(issuer)).json()
    assert body["suppression_threshold"] == 8
    assert body["by_status"] == [{"key": "open", "count": None, "suppressed": True}]  # 7 < 8
    applied = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.applied' "
                   "AND data->>'agreement_id' = :a", a=view["id"])
    assert applied and applied[-1].data["agreement_version"] == 1

    deliver(client, agreement_event({**view, "version": 2, "aggregate_suppression_threshold": 5}))
    assert client.get(URL, headers=national(issuer)).json()["by_status"][0]["count"] == 7

    deliver(client, agreement_event({**view, "version": 3, "status": "suspended"}))
    response = client.get(URL, headers=national(issuer))
    assert response.status_code == 403

    deliver(client, agreement_event({**view, "version": 2}))  # a stale version never wins over a later one
    assert client.get(URL, headers=national(issuer)).status_code == 403


def test_an_agreement_out_of_its_dates_permits_nothing(assessment, issuer):
    client, _ = assessment
    from datetime import UTC, datetime, timedelta

    past = datetime.now(UTC).date() - timedelta(days=30)
    view = agreement_view(tenant="ke-nairobi", parties=[("tenant", "ke-national")], operations=["read_aggregates"],
                          valid_from=past - timedelta(days=365), valid_until=past)
    deliver(client, agreement_event(view))
    assert client.get("/v1/tenants/ke-nairobi/aggregates/cases", headers=national(issuer)).status_code == 403


def test_national_coordinator_still_cannot_read_cases(assessment, issuer):
    client, _ = assessment
    headers = issuer.headers(tenants={"ke-national": ["national_coordinator"]}, scope="aggregates:read cases:read")
    assert client.get(f"/v1/tenants/{COUNTY}/cases", headers=headers).status_code == 404
