"""National compliance: officers of a national tenant read the county logs their oversight covers, and no others."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from harambee_audit.app import create_app
from harambee_audit.oversight import InterimOversight
from harambee_common.auth import Principal
from harambee_common.consumer import EventConsumer
from tests.audit.helpers import deliver, make_event
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


@pytest.fixture
def counties(consumer: Callable[..., EventConsumer], tenant: str) -> tuple[str, str, str]:
    """A national tenant and two counties with two entries each (the first county's second is an emergency read)."""
    national, county, other = f"{tenant}-national", f"{tenant}-county", f"{tenant}-other"
    audit = consumer()
    for county_tenant in (county, other):
        deliver(audit, make_event(county_tenant, subject="subj-n"))
        deliver(audit, make_event(county_tenant, type="access.recorded", subject="subj-n", actor="worker-1",
                                  emergency=True, reason="Risk to life"))
    return national, county, other


def national_officer(issuer: TokenIssuer, national: str, oversees: list[str], **claims: object) -> dict[str, str]:
    return issuer.headers(tenants={national: OFFICER}, sub="national-officer", oversees={national: oversees},
                          **claims)


def entries(owner: sa.Engine, tenant: str) -> list[dict]:
    with owner.connect() as conn:
        rows = conn.scalars(sa.text("SELECT canonical FROM entries WHERE tenant_id = :t ORDER BY seq"), {"t": tenant})
        return [json.loads(r) for r in rows]


def test_a_national_officer_reads_the_log_of_a_county_its_oversight_covers(
    api: TestClient, issuer: TokenIssuer, counties: tuple[str, str, str]
) -> None:
    national, county, _ = counties
    headers = national_officer(issuer, national, [county])

    page = api.get(f"/v1/tenants/{county}/entries", headers=headers)
    queue = api.get(f"/v1/tenants/{county}/emergency-accesses", headers=headers)
    accesses = api.get(f"/v1/tenants/{county}/subjects/subj-n/accesses", headers=headers)

    assert page.status_code == 200, page.text
    assert [e["seq"] for e in page.json()["items"]] == [0, 1]
    assert page.json()["total"] == 2  # its own read is recorded after the search, not inside it
    assert [i["reason"] for i in queue.json()["items"]] == ["Risk to life"]
    assert [e["actor"] for e in accesses.json()["items"]] == ["worker-1"]
    assert api.get(f"/v1/tenants/{county}/read-alerts", headers=headers).status_code == 200


def test_each_national_read_is_recorded_in_the_countys_log_and_a_countys_own_reads_are_not(
    api: TestClient, issuer: TokenIssuer, counties: tuple[str, str, str], owner: sa.Engine
) -> None:
    national, county, _ = counties
    api.get(f"/v1/tenants/{county}/entries", params={"subject": "subj-n"},
            headers=national_officer(issuer, national, [county]))
    api.get(f"/v1/tenants/{county}/entries", headers=issuer.headers(tenants={county: OFFICER}))

    log = entries(owner, county)

    assert [e["type"] for e in log] == ["referral.received", "access.recorded", "audit_log.read_by_oversight"]
    record = log[2]
    assert (record["actor"], record["purpose"], record["subject"]) == ("national-officer", "national_oversight", "log")
    assert record["data"]["from_tenants"] == [national]
    assert record["data"]["route"] == "/v1/tenants/{tenant}/entries"
    assert record["data"]["query"] == "subject=subj-n"
    assert record["seq"] == 2 and record["prev"] is not None  # in the county's hash chain like any entry


def test_a_county_outside_the_national_officers_oversight_does_not_exist_for_it(
    api: TestClient, issuer: TokenIssuer, counties: tuple[str, str, str], owner: sa.Engine
) -> None:
    national, county, other = counties

    response = api.get(f"/v1/tenants/{other}/entries", headers=national_officer(issuer, national, [county]))

    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")
    assert len(entries(owner, other)) == 2  # a refused read writes nothing


def test_only_compliance_officers_of_the_national_tenant_with_the_scope_oversee(
    api: TestClient, issuer: TokenIssuer, counties: tuple[str, str, str]
) -> None:
    national, county, _ = counties
    coordinator = issuer.headers(tenants={national: ["national_coordinator"]}, oversees={national: [county]})
    without_scope = national_officer(issuer, national, [county], scope="aggregates:read")
    url = f"/v1/tenants/{county}/entries"

    assert api.get(url, headers=coordinator).status_code == 404
    refused = api.get(url, headers=without_scope)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/insufficient-scope")
    assert api.get(url, headers=issuer.headers(tenants={national: OFFICER})).status_code == 404  # no claim


def test_a_national_officer_reads_but_does_not_review(
    api: TestClient, issuer: TokenIssuer, counties: tuple[str, str, str]
) -> None:
    national, county, _ = counties

    response = api.post(f"/v1/tenants/{county}/emergency-accesses/1/review",
                        headers=national_officer(issuer, national, [county]),
                        json={"decision": "signed_off", "note": "From national."})

    assert response.status_code == 403
    assert api.get(f"/v1/tenants/{county}/emergency-accesses/1",
                   headers=issuer.headers(tenants={county: OFFICER})).json()["status"] == "pending"


def test_a_configured_mapping_overrides_the_token_for_the_national_tenant_it_names(
    audit_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, issuer: TokenIssuer,
    counties: tuple[str, str, str],
) -> None:
    national, county, other = counties
    monkeypatch.setenv("AUDIT_OVERSIGHT", f"{national}={other}; elsewhere=x")
    api = TestClient(create_app())
    headers = national_officer(issuer, national, [county])  # the token says county; the mapping says other

    assert api.get(f"/v1/tenants/{county}/entries", headers=headers).status_code == 404
    assert api.get(f"/v1/tenants/{other}/entries", headers=headers).status_code == 200


def principal(tenants: dict[str, list[str]], oversees: dict[str, list[str]] | None = None) -> Principal:
    return Principal(
        subject="p", client_id="c", scopes=frozenset({"audit:read"}),
        tenants={t: frozenset(r) for t, r in tenants.items()}, organisation=None,
        oversees={t: frozenset(c) for t, c in (oversees or {}).items()},
    )


def test_allowed_tenants_unites_every_national_tenant_where_the_principal_is_an_officer() -> None:
    policy = InterimOversight.parse("nat-a=c1,c2")
    someone = principal(
        {"nat-a": OFFICER, "nat-b": OFFICER, "nat-c": ["national_coordinator"]},
        oversees={"nat-a": ["c9"], "nat-b": ["c3"], "nat-c": ["c4"]},
    )

    assert policy.allowed_tenants(someone) == {"c1", "c2", "c3"}
    assert InterimOversight().allowed_tenants(principal({"c1": OFFICER})) == set()


@pytest.mark.parametrize("text", ["nat-a", "=c1", "nat-a:c1"])
def test_a_malformed_oversight_setting_is_refused_at_start(text: str) -> None:
    with pytest.raises(ValueError, match="AUDIT_OVERSIGHT"):
        InterimOversight.parse(text)


def test_a_malformed_oversees_claim_grants_nothing(
    api: TestClient, issuer: TokenIssuer, counties: tuple[str, str, str]
) -> None:
    national, county, _ = counties
    for claim in ([county], {national: county}, "everything"):
        headers = issuer.headers(tenants={national: OFFICER}, oversees=claim)
        assert api.get(f"/v1/tenants/{county}/entries", headers=headers).status_code == 404
