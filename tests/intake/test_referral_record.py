"""The full referral record: coded choices, the referrer's words sealed, flags for the screener."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.intake.helpers import (
    BASE,
    FULL_REFERRAL,
    IDENTITY,
    NARRATIVE,
    OTHER_TENANT,
    TENANT,
    agree,
    case_worker,
    dump,
    officer,
    partner,
    person,
    referral,
    submit,
)
from tests.support.services import running_service


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        for tenant in (TENANT, OTHER_TENANT):
            agree(running[0], tenant)
        yield running


def given(value):
    """A part of a view without the fields the referrer left out."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if v not in (None, [])}
    return value


def read(client, headers, referral_id: str) -> dict:
    response = client.get(f"{BASE}/referrals/{referral_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def born_years_ago(years: float) -> str:
    """A date of birth that makes the person that old today (the service dates a referral by the clock)."""
    return (datetime.now(UTC).date() - timedelta(days=round(years * 365.25))).isoformat()


def test_staff_read_every_part_of_the_referral_but_not_the_identity(intake, issuer):
    client, _ = intake
    sixteen = born_years_ago(16.5)  # a minor in the 15-17 band whatever the date the test runs
    created = submit(client, partner(issuer), referral(person={**FULL_REFERRAL["person"], "date_of_birth": sixteen}))
    view = read(client, officer(issuer), created["id"])
    assert view["concern"] == FULL_REFERRAL["concern"]
    assert view["indicators"] == FULL_REFERRAL["indicators"]
    for part in ("referrer", "observed_behaviour", "online_activity", "concerning_contacts", "needs",
                 "safeguarding", "discussed", "referrer_fears", "external_document", "intent_to_harm"):
        assert given(view[part]) == FULL_REFERRAL[part], part
    assert view["is_minor"] is True and view["age_band"] == "15_17"
    text = json.dumps(view)
    for value in (*IDENTITY, sixteen):
        assert value not in text
    assert read(client, case_worker(issuer), created["id"])["concern"] == FULL_REFERRAL["concern"]


def test_referrers_words_and_the_person_are_stored_only_as_ciphertext(intake, issuer):
    client, database = intake
    submit(client, partner(issuer))
    stored = dump(database.owner, "subjects", "referrals", "outbox")
    for value in NARRATIVE + IDENTITY:
        assert value not in stored


def test_a_referral_for_belief_alone_is_accepted_and_flagged_with_guidance(intake, issuer):
    client, _ = intake
    body = referral(indicators=["religious_or_political_views", "change_in_religious_practice"],
                    online_activity=None, concerning_contacts=None, observed_behaviour=None)
    created = submit(client, partner(issuer), body)
    assert created["status"] == "received"
    flags = read(client, officer(issuer), created["id"])["flags"]
    assert [f["code"] for f in flags] == ["belief_only"]
    assert "belief alone" in flags[0]["guidance"]


def test_a_referral_naming_nothing_at_all_is_flagged_too(intake, issuer):
    client, _ = intake
    body = {"person": person("Juma", "Bakari"), "source_type": "community", "concern": "He seems angry."}
    created = submit(client, partner(issuer), body)
    assert [f["code"] for f in read(client, officer(issuer), created["id"])["flags"]] == ["belief_only"]


@pytest.mark.parametrize("observed", [
    {"indicators": ["threats_of_violence"]},
    {"indicators": [], "online_activity": {"platforms": ["video_sharing"]}},
    {"indicators": [], "concerning_contacts": "Meets a known recruiter."},
])
def test_a_behaviour_or_observation_is_not_flagged_as_belief(intake, issuer, observed):
    client, _ = intake
    body = {"person": person("Juma", "Bakari"), "source_type": "community", "concern": "Worried.",
            **observed}
    created = submit(client, partner(issuer), body)
    assert read(client, officer(issuer), created["id"])["flags"] == []


def test_an_expressed_intent_to_harm_is_flagged_for_escalation(intake, issuer):
    client, _ = intake
    body = referral(intent_to_harm={"expressed": True, "targets": ["others"], "description": "Said so."})
    created = submit(client, partner(issuer), body)
    flags = read(client, officer(issuer), created["id"])["flags"]
    assert [f["code"] for f in flags] == ["intent_to_harm"]
    assert "escalate" in flags[0]["guidance"]


def test_a_code_outside_the_tenants_lists_is_a_problem_naming_it(intake, issuer):
    client, _ = intake
    body = referral(indicators=["plans_to_travel", "looks_suspicious"],
                    needs={"codes": ["tall"]})
    response = client.post(f"{BASE}/referrals", json=body, headers=partner(issuer))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/unknown-code")
    assert {tuple(e["location"]) for e in problem["errors"]} == {
        ("body", "indicators", 1), ("body", "needs", "codes", 0)}


def test_minor_status_comes_from_the_date_of_birth_and_must_agree_with_it(intake, issuer):
    client, _ = intake
    adult = submit(client, partner(issuer), referral(person=person("Ali", "Hassan", "1990-01-01")))
    view = read(client, officer(issuer), adult["id"])
    assert view["is_minor"] is False and view["age_band"] == "35_plus"
    stated = submit(client, partner(issuer), referral(person=person("Ali", "Hassan", None), is_minor=True))
    assert read(client, officer(issuer), stated["id"])["is_minor"] is True
    response = client.post(f"{BASE}/referrals", headers=partner(issuer),
                           json=referral(person=person("Ali", "Hassan", "1990-01-01"), is_minor=True))
    assert response.status_code == 422 and response.json()["errors"][0]["location"] == ["body", "is_minor"]


def test_partners_can_read_the_lists_but_only_officers_change_them(intake, issuer):
    client, _ = intake
    lists = client.get(f"{BASE}/vocabularies", headers=partner(issuer)).json()
    assert {v["name"] for v in lists} >= {"indicators", "needs", "signpost_services", "consent_purposes"}
    response = client.put(f"{BASE}/vocabularies/needs", headers={**partner(issuer), "If-Match": '"0"'},
                          json={"entries": [{"code": "x", "label": "X"}]})
    assert response.status_code == 403


def test_a_tenant_replaces_a_default_list_with_its_own(intake, issuer):
    client, _ = intake
    headers = officer(issuer, tenant=OTHER_TENANT)
    url = f"/v1/tenants/{OTHER_TENANT}/vocabularies/indicators"
    current = client.get(url, headers=headers)
    assert current.headers["etag"] == '"0"' and current.json()["overridden"] is False
    entries = [{"code": "boda_boda_recruitment", "label": "Approached at the boda-boda stage",
                "kind": "behaviour"},
               {"code": "sermons_online", "label": "Listens to sermons", "kind": "belief"}]
    replaced = client.put(url, json={"entries": entries}, headers={**headers, "If-Match": '"0"'})
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"1"' and replaced.json()["overridden"] is True

    kwale = partner(issuer, tenant=OTHER_TENANT)
    body = {"person": person("Said", "Omar"), "source_type": "community", "concern": "c"}
    submit(client, kwale, {**body, "indicators": ["boda_boda_recruitment"]}, tenant=OTHER_TENANT)
    refused = client.post(f"/v1/tenants/{OTHER_TENANT}/referrals", headers=kwale,
                          json={**body, "indicators": ["plans_to_travel"]})
    assert refused.status_code == 422
    belief = submit(client, kwale, {**body, "indicators": ["sermons_online"]}, tenant=OTHER_TENANT)
    view = client.get(f"/v1/tenants/{OTHER_TENANT}/referrals/{belief['id']}", headers=headers).json()
    assert [f["code"] for f in view["flags"]] == ["belief_only"]
    # Mombasa still has the default list.
    submit(client, partner(issuer), {**body, "indicators": ["plans_to_travel"]})


def test_an_indicators_list_without_kinds_or_behaviours_is_refused(intake, issuer):
    client, _ = intake
    url = f"{BASE}/vocabularies/indicators"
    headers = {**officer(issuer), "If-Match": '"0"'}
    no_kind = client.put(url, headers=headers, json={"entries": [{"code": "a", "label": "A"}]})
    assert no_kind.status_code == 422
    only_belief = {"entries": [{"code": "a", "label": "A", "kind": "belief"}]}
    beliefs = client.put(url, headers=headers, json=only_belief)
    assert beliefs.status_code == 422 and "behaviour" in beliefs.json()["detail"]


def test_an_unknown_list_is_not_found(intake, issuer):
    client, _ = intake
    response = client.get(f"{BASE}/vocabularies/colours", headers=partner(issuer))
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
