"""National compliance: officers of a national tenant read a county's log only under an agreement in force."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from harambee_audit.app import create_app
from harambee_audit.reads import ALERT_FIELDS, EMERGENCY_FIELDS, ENTRY_NAMES
from harambee_common.consumer import EventConsumer
from tests.audit.helpers import deliver, make_event
from tests.support.agreements import agreement_event, agreement_view
from tests.support.tokens import TokenIssuer

OFFICER = ["compliance_officer"]
# Every field of every view of the log, by the names agreements use: a national officer sees it all.
EVERYTHING = [{"name": "audit_log", "sensitive": False,
               "fields": sorted({*ENTRY_NAMES.values(), *EMERGENCY_FIELDS, *ALERT_FIELDS} - {"subject"})}]
# What the demo's national oversight agreement names (gateway/harambee_gateway/seed.py).
WHO_SAW_WHAT = [{"name": "audit_log", "sensitive": False,
                 "fields": ["seq", "type", "time", "subject_ref", "actor", "client_id", "agreement_id"]}]


@dataclass(frozen=True)
class Counties:
    """A national tenant, two counties with two entries each, and the consumer that fed them."""

    national: str
    county: str
    other: str
    audit: EventConsumer

    def agree(self, **changes: Any) -> dict[str, Any]:
        """Delivers an agreement of the county with the national tenant (read_audit_log unless told)."""
        terms = {"tenant": self.county, "parties": [("tenant", self.national)], "operations": ["read_audit_log"],
                 "data_categories": EVERYTHING, **changes}
        view = agreement_view(**terms)
        deliver(self.audit, agreement_event(view))
        return view


@pytest.fixture
def api(audit_env: dict[str, str]) -> Iterator[TestClient]:
    """The app without its background workers."""
    yield TestClient(create_app())


@pytest.fixture
def counties(consumer: Callable[..., EventConsumer], tenant: str) -> Counties:
    """The first county's second entry is an emergency read; no agreement yet."""
    found = Counties(national=f"{tenant}-national", county=f"{tenant}-county", other=f"{tenant}-other",
                     audit=consumer())
    for county_tenant in (found.county, found.other):
        deliver(found.audit, make_event(county_tenant, subject="subj-n"))
        deliver(found.audit, make_event(county_tenant, type="access.recorded", subject="subj-n", actor="worker-1",
                                        emergency=True, reason="Risk to life"))
    return found


def national_officer(issuer: TokenIssuer, national: str, **claims: object) -> dict[str, str]:
    return issuer.headers(tenants={national: OFFICER}, sub="national-officer", **claims)


def entries(owner: sa.Engine, tenant: str) -> list[dict]:
    with owner.connect() as conn:
        rows = conn.scalars(sa.text("SELECT canonical FROM entries WHERE tenant_id = :t ORDER BY seq"), {"t": tenant})
        return [json.loads(r) for r in rows]


def decisions(owner: sa.Engine, tenant: str, type: str) -> list[dict]:
    with owner.connect() as conn:
        return list(conn.scalars(sa.text("SELECT data FROM outbox WHERE tenant_id = :t AND type = :type ORDER BY seq"),
                                 {"t": tenant, "type": type}))


def test_without_an_agreement_a_national_officer_is_refused_and_the_refusal_recorded(
    api: TestClient, issuer: TokenIssuer, counties: Counties, owner: sa.Engine
) -> None:
    response = api.get(f"/v1/tenants/{counties.county}/entries", headers=national_officer(issuer, counties.national))

    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    [published] = decisions(owner, counties.county, "agreement.refused")
    assert published["party"] == {"kind": "tenant", "id": counties.national}
    assert published["operation"] == "read_audit_log" and published["agreement_id"] is None
    log = entries(owner, counties.county)
    assert [e["type"] for e in log] == ["referral.received", "access.recorded", "agreement.refused"]
    assert log[2]["actor"] == "national-officer"


def test_an_agreement_event_is_logged_and_applied_to_the_copy(counties: Counties, owner: sa.Engine) -> None:
    view = counties.agree()

    assert entries(owner, counties.county)[-1]["type"] == "agreement.activated"
    with owner.connect() as conn:
        copy = conn.execute(sa.text("SELECT tenant_id, version, status FROM agreement_copies "
                                    "WHERE agreement_id = :a"), {"a": view["id"]}).one()
    assert tuple(copy) == (counties.county, 1, "active")


def test_under_an_agreement_in_force_a_national_officer_reads_the_countys_log(
    api: TestClient, issuer: TokenIssuer, counties: Counties
) -> None:
    counties.agree()
    headers = national_officer(issuer, counties.national)
    county = counties.county

    page = api.get(f"/v1/tenants/{county}/entries", headers=headers)
    queue = api.get(f"/v1/tenants/{county}/emergency-accesses", headers=headers)
    accesses = api.get(f"/v1/tenants/{county}/subjects/subj-n/accesses", headers=headers)

    assert page.status_code == 200, page.text
    assert [e["type"] for e in page.json()["items"]] == ["referral.received", "access.recorded", "agreement.activated"]
    assert page.json()["total"] == 3  # its own read is recorded after the search, not inside it
    assert [i["reason"] for i in queue.json()["items"]] == ["Risk to life"]
    # The officer's own reads of subj-n's entries (the search, then the queue) are reads of that person too.
    assert [e["actor"] for e in accesses.json()["items"]] == ["worker-1", "national-officer", "national-officer"]
    assert api.get(f"/v1/tenants/{county}/read-alerts", headers=headers).status_code == 200


def test_each_national_read_is_logged_with_its_agreement_and_a_countys_own_reads_without_one(
    api: TestClient, issuer: TokenIssuer, counties: Counties, owner: sa.Engine
) -> None:
    view = counties.agree()
    api.get(f"/v1/tenants/{counties.county}/entries", params={"subject": "subj-n"},
            headers=national_officer(issuer, counties.national))
    api.get(f"/v1/tenants/{counties.county}/entries",
            headers=issuer.headers(tenants={counties.county: OFFICER}, sub="county-officer"))

    log = entries(owner, counties.county)

    assert [e["type"] for e in log] == [
        "referral.received", "access.recorded", "agreement.activated",
        "access.recorded", "audit_log.read_by_oversight",  # the national read: the person it returned, the agreement
        "access.recorded", "access.recorded", "access.recorded",  # the county's: each subject it returned
    ]
    national = ("national-officer", "subj-n", "national_oversight")
    assert (log[3]["actor"], log[3]["subject"], log[3]["purpose"]) == national
    # The county's read returned subj-n's entries, the agreement's and the oversight record (about the log); the
    # national officer's record of its read of subj-n is the log's own, not recorded again.
    assert [(e["actor"], e["subject"], e["purpose"]) for e in log[5:]] == [
        ("county-officer", "subj-n", "compliance_review"), ("county-officer", log[2]["subject"], "compliance_review"),
        ("county-officer", "log", "compliance_review"),
    ]
    record = log[4]
    assert (record["actor"], record["purpose"], record["subject"]) == ("national-officer", "national_oversight", "log")
    assert record["agreement"] == view["id"]  # so `?agreement=` finds every read made under it
    assert (record["data"]["agreement_id"], record["data"]["agreement_version"]) == (view["id"], 1)
    assert record["data"]["from_tenants"] == [counties.national]
    assert record["data"]["route"] == "/v1/tenants/{tenant}/entries"
    assert record["data"]["query"] == "subject=subj-n"
    assert record["seq"] == 4 and record["prev"] is not None  # in the county's hash chain like any entry
    [applied] = decisions(owner, counties.county, "agreement.applied")
    assert (applied["agreement_id"], applied["agreement_version"]) == (view["id"], 1)
    assert decisions(owner, counties.county, "agreement.refused") == []


def test_a_suspended_agreement_stops_national_reads_at_once(
    api: TestClient, issuer: TokenIssuer, counties: Counties, owner: sa.Engine
) -> None:
    view = counties.agree()
    url, headers = f"/v1/tenants/{counties.county}/entries", national_officer(issuer, counties.national)
    assert api.get(url, headers=headers).status_code == 200

    counties.agree(agreement_id=view["id"], version=2, status="suspended")
    response = api.get(url, headers=headers)

    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    refused = decisions(owner, counties.county, "agreement.refused")[-1]
    assert (refused["agreement_id"], refused["agreement_version"]) == (view["id"], 2)
    assert entries(owner, counties.county)[-1]["type"] == "agreement.refused"


@pytest.mark.parametrize("terms", [
    {"operations": ["read_aggregates"]},  # the agreement does not permit reading the log
    {"parties": [("tenant", "ke-elsewhere")]},  # nor does it name this national tenant
    {"status": "draft"},  # nor is it in force
], ids=["operation", "party", "draft"])
def test_an_agreement_that_does_not_cover_the_read_refuses_it(
    api: TestClient, issuer: TokenIssuer, counties: Counties, terms: dict[str, Any]
) -> None:
    counties.agree(**terms)

    response = api.get(f"/v1/tenants/{counties.county}/entries", headers=national_officer(issuer, counties.national))

    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")


def test_an_agreement_with_one_county_opens_no_other_countys_log(
    api: TestClient, issuer: TokenIssuer, counties: Counties, owner: sa.Engine
) -> None:
    counties.agree()

    response = api.get(f"/v1/tenants/{counties.other}/entries", headers=national_officer(issuer, counties.national))

    assert response.status_code == 403 and response.json()["type"].endswith("/no-agreement")
    assert [e["type"] for e in entries(owner, counties.other)][2:] == ["agreement.refused"]  # and nothing read


def test_a_refusal_starts_no_log_for_a_tenant_the_service_has_never_heard_of(
    api: TestClient, issuer: TokenIssuer, counties: Counties, owner: sa.Engine
) -> None:
    made_up = f"{counties.county}-nowhere"

    response = api.get(f"/v1/tenants/{made_up}/entries", headers=national_officer(issuer, counties.national))

    assert response.status_code == 403
    assert entries(owner, made_up) == []
    assert len(decisions(owner, made_up, "agreement.refused")) == 1  # the decision is still published


def test_only_compliance_officers_of_the_national_tenant_with_the_scope_read(
    api: TestClient, issuer: TokenIssuer, counties: Counties
) -> None:
    counties.agree()
    coordinator = issuer.headers(tenants={counties.national: ["national_coordinator"]})
    without_scope = national_officer(issuer, counties.national, scope="aggregates:read")
    url = f"/v1/tenants/{counties.county}/entries"

    assert api.get(url, headers=coordinator).status_code == 404
    refused = api.get(url, headers=without_scope)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/insufficient-scope")


def test_a_national_officer_reads_but_does_not_review_even_under_an_agreement(
    api: TestClient, issuer: TokenIssuer, counties: Counties
) -> None:
    counties.agree()
    headers = national_officer(issuer, counties.national)
    county_officer = issuer.headers(tenants={counties.county: OFFICER})

    response = api.post(f"/v1/tenants/{counties.county}/emergency-accesses/1/review", headers=headers,
                        json={"decision": "signed_off", "note": "From national."})

    assert response.status_code == 404  # reviews are the county's own: the tenant does not exist for others
    assert api.get(f"/v1/tenants/{counties.county}/emergency-accesses/1", headers=headers).status_code == 200
    assert api.get(f"/v1/tenants/{counties.county}/emergency-accesses/1",
                   headers=county_officer).json()["status"] == "pending"


def test_a_national_officer_is_shown_only_the_fields_the_agreement_names_and_the_record_says_which(
    api: TestClient, issuer: TokenIssuer, counties: Counties, owner: sa.Engine
) -> None:
    counties.agree(data_categories=WHO_SAW_WHAT)
    headers = national_officer(issuer, counties.national)
    county = counties.county

    page = api.get(f"/v1/tenants/{county}/entries", params={"subject": "subj-n"}, headers=headers)

    assert page.status_code == 200, page.text
    [received, emergency] = page.json()["items"]
    assert (received["type"], received["subject"], emergency["actor"]) == ("referral.received", "subj-n", "worker-1")
    # Not named by the agreement: null, never the value (the emergency's reason is in its data).
    for entry in (received, emergency):
        assert entry["data"] is entry["purpose"] is entry["event_id"] is entry["leaf_hash"] is None
    one = api.get(f"/v1/tenants/{county}/entries/{emergency['seq']}", headers=headers).json()
    assert one["data"] is None and one["actor"] == "worker-1"
    records = [e for e in entries(owner, county) if e["type"] == "access.recorded" and e["actor"] == "national-officer"]
    assert [r["data"]["fields"] for r in records] == [["actor", "agreement", "client_id", "subject", "type"]] * 2
    # Views of use only whole (an export verified by its hashes, the queue with its reasons, alerts): refused.
    for path in ("export", "emergency-accesses", f"emergency-accesses/{emergency['seq']}", "read-alerts"):
        refused = api.get(f"/v1/tenants/{county}/{path}", headers=headers)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/view-needs-every-field"), path
    # The county's own officers see every field.
    own = api.get(f"/v1/tenants/{county}/entries", params={"subject": "subj-n"},
                  headers=issuer.headers(tenants={county: OFFICER}))
    assert own.json()["items"][1]["data"]["reason"] == "Risk to life"
