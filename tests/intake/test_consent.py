"""Consent records, and withdrawal in one call, published as `consent.withdrawn` (no other service consumes it yet)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.intake.helpers import Desk, dump, outbox, person
from tests.support.services import running_service


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def consent(**changes) -> dict:
    body = {"given_by": "person", "purposes": ["support", "information_sharing"],
            "recipients": ["mombasa-youth-cso", "county-health"], "method": "written",
            "given_at": ago(hours=1), "expires_at": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
            "evidence": "Signed form CF-2291 filed at the county office"}
    return {**body, **changes}


def adult(desk: Desk) -> str:
    return desk.subject_of(desk.submit(person("Ali", "Hassan", "1999-09-09"))["id"])


def test_a_consent_is_recorded_with_everything_that_proves_it(intake, desk):
    _, database = intake
    subject = adult(desk)
    response = desk.post(f"/subjects/{subject}/consents", consent())
    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["state"] == "active" and recorded["purposes"] == ["support", "information_sharing"]
    assert recorded["recipients"] == ["mombasa-youth-cso", "county-health"]
    assert recorded["evidence"] == "Signed form CF-2291 filed at the county office"
    assert recorded["recorded_by"] == "officer-1" and recorded["method"] == "written"
    [event] = outbox(database.owner, "consent.recorded", consent_id=recorded["id"])
    assert event.data["subject_ref"] == subject and event.data["purposes"] == recorded["purposes"]
    assert "CF-2291" not in str(event.data)
    assert "recipients" not in event.data and "county-health" not in str(event.data)  # codes and references only
    # Of the recipients, only the registry organisations party to the tenant's agreements, by their ids: what
    # assessment and interventions check before disclosing under an agreement that requires consent.
    assert event.data["recipient_organisations"] == ["mombasa-youth-cso"]
    assert "CF-2291" not in dump(database.owner, "consents")
    listed = desk.get(f"/subjects/{subject}/consents").json()
    assert [c["id"] for c in listed] == [recorded["id"]]
    assert outbox(database.owner, "access.recorded", resource=f"subject/{subject}/consents")


def test_a_minors_consent_must_come_from_a_parent_or_guardian(desk):
    born = (datetime.now(UTC).date() - timedelta(days=round(14.5 * 365.25))).isoformat()  # 14 whenever it runs
    minor = desk.subject_of(desk.submit(person("Neema", "Akinyi", born))["id"])
    refused = desk.post(f"/subjects/{minor}/consents", consent())
    assert refused.status_code == 422 and refused.json()["errors"][0]["location"] == ["body", "given_by"]
    assert desk.post(f"/subjects/{minor}/consents", consent(given_by="parent")).status_code == 422  # no name
    given = desk.post(f"/subjects/{minor}/consents", consent(given_by="parent", giver_name="Mary Akinyi"))
    assert given.status_code == 201 and given.json()["giver_name"] == "Mary Akinyi"


def test_minor_status_stated_without_a_date_of_birth_counts_too(desk):
    referral = desk.submit(person("Baraka", "Otieno", None), is_minor=True)
    subject = desk.subject_of(referral["id"])
    assert desk.post(f"/subjects/{subject}/consents", consent()).status_code == 422
    assert desk.post(f"/subjects/{subject}/consents",
                     consent(given_by="guardian", giver_name="Uncle Otieno")).status_code == 201


def test_withdrawal_is_one_call_that_publishes_consent_withdrawn(intake, desk):
    _, database = intake
    subject = adult(desk)
    recorded = desk.post(f"/subjects/{subject}/consents", consent()).json()
    response = desk.post(f"/subjects/{subject}/consents/{recorded['id']}/withdrawal",
                         {"withdrawn_by": "person", "method": "verbal", "note": "Said so by phone."})
    assert response.status_code == 200, response.text
    withdrawn = response.json()
    assert withdrawn["state"] == "withdrawn" and withdrawn["withdrawn_by"] == "person"
    [event] = outbox(database.owner, "consent.withdrawn", consent_id=recorded["id"])
    assert event.data["subject_ref"] == subject and event.subject == subject
    assert event.data["purposes"] == recorded["purposes"]
    assert "recipients" not in event.data and "county-health" not in str(event.data)  # the officer's words stay
    assert event.data["actor"] == "officer-1" and "phone" not in str(event.data)
    again = desk.post(f"/subjects/{subject}/consents/{recorded['id']}/withdrawal",
                      {"withdrawn_by": "person", "method": "verbal"})
    assert again.status_code == 409
    assert desk.get(f"/subjects/{subject}/consents").json()[0]["state"] == "withdrawn"
    assert len(outbox(database.owner, "consent.withdrawn", consent_id=recorded["id"])) == 1


def test_an_expired_consent_says_so(desk):
    subject = adult(desk)
    desk.post(f"/subjects/{subject}/consents", consent(given_at=ago(days=400), expires_at=ago(days=35)))
    assert desk.get(f"/subjects/{subject}/consents").json()[0]["state"] == "expired"


@pytest.mark.parametrize("changes", [
    {"purposes": ["marketing"]},
    {"purposes": []},
    {"recipients": []},
    {"expires_at": ago(days=2), "given_at": ago(days=1)},
    {"given_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    {"evidence": ""},
    {"method": "telepathy"},
])
def test_an_incomplete_or_impossible_consent_is_refused(desk, changes):
    response = desk.post(f"/subjects/{adult(desk)}/consents", consent(**changes))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_who_may_record_read_and_withdraw_consent(desk):
    subject = adult(desk)
    assert desk.post(f"/subjects/{subject}/consents", consent(), headers=desk.partner()).status_code == 403
    assert desk.post(f"/subjects/{subject}/consents", consent(), headers=desk.case_worker()).status_code == 403
    recorded = desk.post(f"/subjects/{subject}/consents", consent()).json()
    assert desk.get(f"/subjects/{subject}/consents", headers=desk.case_worker()).status_code == 200
    assert desk.get(f"/subjects/{subject}/consents", headers=desk.partner()).status_code == 403
    other = desk.subject_of(desk.submit(person("Fatuma", "Said", "1990-01-01"))["id"])
    wrong = desk.post(f"/subjects/{other}/consents/{recorded['id']}/withdrawal",
                      {"withdrawn_by": "person", "method": "verbal"})
    assert wrong.status_code == 404
    missing = desk.post("/subjects/00000000-0000-0000-0000-000000000000/consents", consent())
    assert missing.status_code == 404
