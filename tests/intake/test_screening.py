"""Screening: outcomes with required reasons, the escalation hand-off, events, timeliness."""

from __future__ import annotations

import pytest

from tests.intake.helpers import Desk, dump, execute, outbox, person
from tests.support.services import running_service

CONTACT = {"name": "County Safeguarding Lead", "role": "Safeguarding lead", "phone": "+254700999000",
           "instructions": "Call at once, day or night."}


@pytest.fixture(scope="module")
def intake(postgres, broker, issuer):
    with running_service("intake", postgres=postgres, broker=broker, issuer=issuer) as running:
        yield running


@pytest.fixture
def desk(intake, issuer) -> Desk:
    return Desk(intake[0], issuer)


def referral(desk: Desk, who: dict | None = None) -> tuple[str, str]:
    """A new referral's id and the ETag an officer reads for it."""
    created = desk.submit(who or person("Juma", "Bakari", "2004-04-04"))
    response = desk.get(f"/referrals/{created['id']}")
    return created["id"], response.headers["etag"]


def screen(desk: Desk, referral_id: str, etag: str | None, decision: dict, headers=None):
    extra = {"If-Match": etag} if etag else {}
    return desk.client.post(f"{desk.base}/referrals/{referral_id}/screening", json=decision,
                            headers={**(headers or desk.officer()), **extra})


def test_accepting_a_referral_raises_referral_accepted_for_assessment(intake, desk):
    _, database = intake
    referral_id, etag = referral(desk)
    response = screen(desk, referral_id, etag, {"outcome": "accept", "note": "Clear behavioural concern."})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    decision = response.json()
    assert decision["outcome"] == "accept" and decision["screened_by"] == "officer-1"
    [accepted] = outbox(database.owner, "referral.accepted", referral_id=referral_id)
    assert set(accepted.data) == {"referral_id", "subject_ref", "source_type", "organisation", "received_at",
                                  "accepted_at"}
    [screened] = outbox(database.owner, "referral.screened", referral_id=referral_id)
    assert screened.data["outcome"] == "accept"
    assert len(outbox(database.owner, "referral.received", referral_id=referral_id)) == 1
    view = desk.referral(referral_id)
    assert (view["status"], view["outcome"]) == ("screened", "accept")
    assert view["screening"]["note"] == "Clear behavioural concern."


def test_an_escalation_hands_over_the_designated_contact_and_the_event_says_only_that(intake, desk):
    _, database = intake
    setting = desk.client.put(f"{desk.base}/settings/escalation_contact", json=CONTACT,
                              headers={**desk.officer(), "If-Match": '"0"'})
    assert setting.status_code == 200, setting.text
    referral_id, etag = referral(desk)
    response = screen(desk, referral_id, etag, {"outcome": "escalate", "grounds": "risk_to_life",
                                                "note": "Says he will hurt his brother tonight."})
    assert response.status_code == 200, response.text
    handoff = response.json()["handoff"]
    assert handoff["contact"]["phone"] == CONTACT["phone"] and handoff["instructions"] == CONTACT["instructions"]
    [screened] = outbox(database.owner, "referral.screened", referral_id=referral_id)
    assert set(screened.data) == {"referral_id", "subject_ref", "outcome", "screened_at",
                                  "time_to_screen_seconds"}
    assert screened.data["outcome"] == "escalate"
    assert outbox(database.owner, "referral.accepted", referral_id=referral_id) == []
    assert "hurt his brother" not in dump(database.owner, "screenings", "referrals", "outbox")


def test_an_escalation_without_a_designated_contact_still_goes_through_with_instructions(desk):
    referral_id, etag = referral(desk)
    response = screen(desk, referral_id, etag, {"outcome": "escalate", "grounds": "crime_imminent"})
    assert response.status_code == 200
    handoff = response.json()["handoff"]
    assert handoff["contact"] is None and "999" in handoff["instructions"]


@pytest.mark.parametrize("decision, field, value", [
    ({"outcome": "signpost", "service": "mental_health", "service_detail": "Coast General clinic"},
     "service", "mental_health"),
    ({"outcome": "no_further_action", "reason": "misguided"}, "reason", "misguided"),
    ({"outcome": "no_further_action", "reason": "malicious"}, "reason", "malicious"),
    ({"outcome": "no_further_action", "reason": "out_of_scope"}, "reason", "out_of_scope"),
    ({"outcome": "no_further_action", "reason": "insufficient_information"}, "reason", "insufficient_information"),
])
def test_signposting_and_no_further_action_record_their_reason(intake, desk, decision, field, value):
    _, database = intake
    referral_id, etag = referral(desk)
    response = screen(desk, referral_id, etag, decision)
    assert response.status_code == 200, response.text
    assert response.json()["reason"] == value
    [screened] = outbox(database.owner, "referral.screened", referral_id=referral_id)
    assert screened.data[field] == value
    if "service_detail" in decision:
        assert desk.referral(referral_id)["screening"]["service_detail"] == "Coast General clinic"


@pytest.mark.parametrize("decision", [
    {"outcome": "no_further_action"},
    {"outcome": "no_further_action", "reason": "dont_like_them"},
    {"outcome": "signpost"},
    {"outcome": "escalate"},
    {"outcome": "escalate", "grounds": "a_feeling"},
    {"outcome": "panel"},
    {},
])
def test_an_outcome_without_its_required_reason_is_refused(desk, decision):
    referral_id, etag = referral(desk)
    response = screen(desk, referral_id, etag, decision)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert desk.referral(referral_id)["status"] == "received"


def test_signposting_to_a_service_outside_the_tenants_list_is_refused(desk):
    referral_id, etag = referral(desk)
    response = screen(desk, referral_id, etag, {"outcome": "signpost", "service": "astrologer"})
    assert response.status_code == 422 and response.json()["type"].endswith("/unknown-code")


def test_screening_needs_the_current_etag_and_happens_once(desk):
    referral_id, etag = referral(desk)
    decision = {"outcome": "no_further_action", "reason": "misguided"}
    assert screen(desk, referral_id, None, decision).status_code == 428
    assert screen(desk, referral_id, '"7"', decision).status_code == 412
    done = screen(desk, referral_id, etag, decision)
    assert done.status_code == 200
    again = screen(desk, referral_id, done.headers["etag"], {"outcome": "accept"})
    assert again.status_code == 409 and again.json()["type"].endswith("/invalid-state")


def test_only_intake_officers_screen(desk):
    referral_id, etag = referral(desk)
    for headers in (desk.partner(), desk.case_worker()):
        assert screen(desk, referral_id, etag, {"outcome": "accept"}, headers=headers).status_code == 403


def test_time_from_receipt_to_screening_is_recorded_and_reported(intake, desk):
    _, database = intake
    ids = []
    for hours in (2, 4, 30):
        referral_id, _ = referral(desk)
        execute(database.owner, "UPDATE referrals SET received_at = received_at - make_interval(hours => :h) "
                "WHERE id = :i", h=hours, i=referral_id)
        ids.append(referral_id)
    referral(desk)  # one still waiting
    for referral_id, outcome in zip(ids, ("accept", "accept", "signpost"), strict=True):
        etag = desk.get(f"/referrals/{referral_id}").headers["etag"]
        extra = {"service": "health"} if outcome == "signpost" else {}
        response = screen(desk, referral_id, etag, {"outcome": outcome, **extra})
        assert response.status_code == 200
    assert abs(desk.referral(ids[0])["screening"]["time_to_screen_seconds"] - 7200) < 60
    [screened] = outbox(database.owner, "referral.screened", referral_id=ids[2])
    assert abs(screened.data["time_to_screen_seconds"] - 30 * 3600) < 60

    report = desk.get("/reports/screening-timeliness", received_from="2000-01-01T00:00:00Z").json()
    assert report["overall"]["screened"] == 3 and abs(report["overall"]["median_hours"] - 4) < 0.1
    by_outcome = {r["outcome"]: r for r in report["by_outcome"]}
    assert by_outcome["accept"]["screened"] == 2 and abs(by_outcome["accept"]["median_hours"] - 3) < 0.1
    assert by_outcome["signpost"]["screened"] == 1
    assert report["awaiting_screening"] == 1
    assert desk.get("/reports/screening-timeliness", headers=desk.partner()).status_code == 403


def test_screeners_see_the_outcomes_of_earlier_referrals_of_the_person(desk):
    who = person("Neema", "Akinyi", "2011-11-11")
    first, etag = referral(desk, who)
    screen(desk, first, etag, {"outcome": "no_further_action", "reason": "insufficient_information"})
    second = desk.submit(who)
    [candidate] = desk.referral(second["id"])["duplicate_candidates"]  # the same person, for the screener to confirm
    assert candidate["subject_ref"] == desk.subject_of(first) and "exact" in candidate["signals"]
    assert candidate["outcomes"] == ["no_further_action"]
    merged = desk.post(f"/subjects/{desk.subject_of(second['id'])}/merge",
                       {"into": candidate["subject_ref"], "reason": "Same name and date of birth, confirmed."})
    assert merged.status_code == 200, merged.text
    [prior] = desk.referral(second["id"])["prior_referrals"]
    assert (prior["id"], prior["outcome"]) == (first, "no_further_action")
    variant = desk.submit(person("Neemah", "Akinyi", "2011-11-11"))
    [candidate] = desk.referral(variant["id"])["duplicate_candidates"]
    assert candidate["outcomes"] == ["no_further_action"] and candidate["referrals"] == 2


def test_lists_filter_by_outcome(desk):
    accepted, etag = referral(desk)
    screen(desk, accepted, etag, {"outcome": "accept"})
    referral(desk)
    items = desk.get("/referrals", outcome="accept").json()["items"]
    assert [i["id"] for i in items] == [accepted]
    assert desk.get("/referrals", outcome="maybe").status_code == 422


def test_settings_are_staff_only_validated_and_versioned(desk):
    url = f"{desk.base}/settings/escalation_contact"
    assert desk.client.get(url, headers=desk.partner()).status_code == 403
    assert desk.client.get(url, headers=desk.officer()).json() == {"name": "escalation_contact", "value": None,
                                                                   "version": 0}
    assert desk.client.put(url, json=CONTACT, headers=desk.officer()).status_code == 428
    bad = desk.client.put(url, json={"name": "x"}, headers={**desk.officer(), "If-Match": '"0"'})
    assert bad.status_code == 422 and bad.json()["errors"]
    assert desk.client.put(url, json=CONTACT, headers={**desk.case_worker(), "If-Match": '"0"'}).status_code == 403
    assert desk.client.get(f"{desk.base}/settings/colour", headers=desk.officer()).status_code == 404
