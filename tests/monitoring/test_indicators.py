"""County indicators, built from the events intake, assessment and interventions publish: exact for the county's
programme manager, by month of referral, as JSON series and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.monitoring.support import Journey, deliver, manager
from tests.support.services import rows

COUNTY = "ke-mon-indicators"
MARCH, APRIL = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 4, 6, 9, tzinfo=UTC)
URL = f"/v1/tenants/{COUNTY}/indicators"
WINDOW = "?from=2026-02&to=2026-05"


def march_referrals() -> list[Journey]:
    """Ten referrals in March, taken to different steps of the lifecycle."""
    j = [Journey(COUNTY, MARCH) for _ in range(10)]
    j[0]  # awaiting screening
    j[1].screened("escalate", days=0.5)
    j[2].screened("signpost", days=2)
    j[3].screened("signpost", days=3)
    j[4].screened("no_further_action", days=4)
    j[5].screened("accept", days=1)  # awaiting assessment
    j[6].screened("accept", days=1).assessed(days=11).decided("decline", days=21)
    j[7].supported().closed("vulnerability_removed", days=100).followed_up(6, "doing_well", days=290)
    j[8].supported()
    j[9].screened("accept", days=1).assessed(days=15).decided("adopt", days=25)  # awaiting consent
    return j


def april_referrals() -> list[Journey]:
    """Four referrals in April, from other sources and about other people; one about someone already known."""
    return [
        Journey(COUNTY, APRIL, source_type="health", age_band="25_34", gender="female", is_minor=False,
                indicators=["religious_or_political_views"], concern_types=["belief"]).screened("signpost"),
        Journey(COUNTY, APRIL, source_type="health", age_band="18_24", gender="female", is_minor=False,
                indicators=["dropped_out", "grievance_or_injustice"], concern_types=["context"], repeat=True),
        Journey(COUNTY, APRIL, source_type="cso", age_band=None, gender=None, is_minor=None, indicators=[],
                concern_types=[]).screened("accept").assessed().decided("adopt").consented().planned(
                    types=("mentoring", "vocational_training")).session().closed("no_engagement", days=60),
        Journey(COUNTY, APRIL, source_type="cso").screened("accept").assessed().decided("adopt").consented()
        .withdrawn(),
    ]


@pytest.fixture(scope="module")
def county(monitoring):
    client, database = monitoring
    journeys = march_referrals() + april_referrals()
    # Case events may arrive before the referral's (they travel on other topics): deliver them first.
    first, rest = journeys[:3], journeys[3:]
    for journey in first:
        for event in [*journey.events[1:], journey.events[0]]:
            assert deliver(client, event)
    for journey in rest:
        journey.deliver_to(client)
    # A reassessment with more items improved than worsened (concerns down, strengths up), and one the other way
    # (concerns up, strengths even); each compares six concerns and four strengths.
    j = journeys[7]
    for improved, worsened, down, up, s_up, s_down in ((6, 2, 4, 1, 2, 1), (1, 3, 0, 2, 1, 1)):
        event = j.assessed(days=90, supersedes=j.assessment_id, compared=10, improved=improved, worsened=worsened,
                           concerns_compared=6, concerns_down=down, concerns_up=up, strengths_compared=4,
                           strengths_up=s_up, strengths_down=s_down).events[-1]
        assert deliver(client, event)
    return client, database, journeys


def series(body: dict, table: str) -> dict[str, dict]:
    found = next(t for t in body["tables"] if t["name"] == table)
    return {s["key"]: s for s in found["series"]}


def read(client, issuer, indicator: str) -> dict:
    response = client.get(f"{URL}/{indicator}{WINDOW}", headers=manager(issuer, COUNTY))
    assert response.status_code == 200, response.text
    return response.json()


def test_funnel_counts_each_step_by_month_of_referral(county, issuer):
    client, _, _ = county
    body = read(client, issuer, "funnel")
    assert body["months"] == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert body["protection"]["kind"] == "none"
    steps = {k: s["values"] for k, s in series(body, "steps").items()}
    expected_march = {
        "referred": 10, "screened": 9, "screened_escalate": 1, "screened_signpost": 2, "screened_no_further_action": 1,
        "accepted": 5, "assessed": 4, "decided": 4, "decided_decline": 1, "adopted": 3, "consented": 2,
        "first_session": 2, "closed": 1, "follow_up_6": 1, "follow_up_12": 0,
    }
    assert {k: steps[k][1] for k in expected_march} == expected_march
    # April: a withdrawal counts as consented but not as a first session; a closure after a session as both.
    assert {k: steps[k][2] for k in ("referred", "screened", "accepted", "adopted", "consented", "first_session",
                                     "closed")} == {"referred": 4, "screened": 3, "accepted": 2, "adopted": 2,
                                                    "consented": 2, "first_session": 1, "closed": 1}
    assert steps["referred"][0] == steps["referred"][3] == 0
    assert series(body, "steps")["referred"]["total"] == 14


def test_funnel_conversion_is_each_step_over_the_one_before(county, issuer):
    client, _, _ = county
    conversion = series(read(client, issuer, "funnel"), "conversion")
    assert conversion["screened"]["values"][1] == 0.9
    assert conversion["accepted"]["values"][1] == pytest.approx(5 / 9, abs=1e-4)
    assert conversion["adopted"]["values"][1] == 0.75
    assert conversion["first_session"]["values"][1] == 1.0
    assert conversion["closed"]["values"][1] == 0.5
    # No referrals in February: a rate of nothing is not defined, and nothing is withheld.
    assert conversion["screened"]["values"][0] is None and conversion["screened"]["withheld"] == []


def test_funnel_counts_exits_by_reason_and_follow_ups(county, issuer):
    client, _, _ = county
    body = read(client, issuer, "funnel")
    closed = series(body, "closed_by_exit_reason")
    assert closed["closed_vulnerability_removed"]["values"][1] == 1
    assert closed["closed_no_engagement"]["values"][2] == 1
    follow_up = series(body, "by_follow_up_6")
    assert follow_up["doing_well"]["values"][1] == 1 and follow_up["not_yet"]["values"][2] == 1
    stages = series(body, "by_stage")
    assert stages["total"]["values"] == [0, 10, 4, 0]  # the stages partition the referrals
    assert stages["withdrawn"]["values"][2] == 1 and stages["adopted_awaiting_consent"]["values"][1] == 1


def test_timeliness_gives_p50_and_p90_days_by_month(county, issuer):
    client, _, _ = county
    body = read(client, issuer, "timeliness")
    to_screening = series(body, "to_screening")
    # March: screened after 0.5, 2, 3, 4 and five times 1 day.
    assert to_screening["measured"]["values"][1] == 9
    assert to_screening["p50"]["values"][1] == 1.0
    assert to_screening["p90"]["values"][1] == pytest.approx(3.2)
    to_session = series(body, "to_first_session")
    # A session is held on a day: counted from the referral's hour (09:00) to that day's start.
    assert to_session["measured"]["values"][1] == 2
    assert to_session["p50"]["values"][1] == pytest.approx(30 - 9 / 24, abs=0.01)
    decision = series(body, "to_panel_decision")  # decided after 20, 20, 21 and 25 days
    assert decision["p50"]["values"][1] == 20.5 and decision["p90"]["values"][1] == pytest.approx(23.8)


def test_referrals_by_source_age_band_gender_minor_and_concern(county, issuer):
    client, _, _ = county
    body = read(client, issuer, "referrals")
    assert series(body, "by_source_type")["education"]["values"][1] == 10
    assert series(body, "by_source_type")["health"]["values"][2] == 2
    assert series(body, "by_age_band")["15_17"]["total"] == 11
    assert series(body, "by_age_band")["unknown"]["values"][2] == 1
    assert series(body, "by_gender")["female"]["values"][2] == 2
    assert series(body, "by_minor")["adult"]["values"][2] == 2
    concern = series(body, "by_concern_type")
    assert [concern[k]["values"][2] for k in ("behaviour", "context", "belief", "none")] == [1, 1, 1, 1]
    indicators = series(body, "by_indicator")
    assert indicators["sudden_withdrawal"]["values"][1] == 10 and indicators["dropped_out"]["values"][2] == 1


def test_re_referral_rate(county, issuer):
    client, _, _ = county
    body = read(client, issuer, "re-referrals")
    assert series(body, "re_referral_rate")["re_referral_rate"]["values"][1:3] == [0.0, 0.25]
    assert series(body, "by_repeat")["repeat"]["total"] == 1


def test_plans_completed_and_intervention_types(county, issuer):
    client, _, _ = county
    body = read(client, issuer, "plans")
    plans = series(body, "plans")
    assert plans["closed"]["values"][1:3] == [1, 1] and plans["completed"]["values"][1:3] == [1, 0]
    assert series(body, "completion_rate")["completion_rate"]["values"][1:3] == [1.0, 0.0]
    types = series(body, "by_intervention_type")
    assert types["mentoring"]["total"] == 3 and types["vocational_training"]["total"] == 1


def test_individual_change_between_assessments(county, issuer):
    client, _, journeys = county
    body = read(client, issuer, "change")
    # Both reassessments were approved 90 days after a March referral: in May or June.
    month = journeys[7].at(90).strftime("%Y-%m")
    index = body["months"].index(month)
    directions = series(body, "by_direction")
    assert directions["improved"]["values"][index] == 1 and directions["worsened"]["values"][index] == 1
    items = series(body, "items")
    assert items["improved"]["values"][index] == 0.35 and items["worsened"]["values"][index] == 0.25


def test_change_tells_concerns_down_from_strengths_up(county, issuer):
    client, _, journeys = county
    body = read(client, issuer, "change")
    index = body["months"].index(journeys[7].at(90).strftime("%Y-%m"))
    items = {k: s["values"][index] for k, s in series(body, "items").items()}
    # Of the twelve concerns compared, four rated lower and three higher; of the eight strengths, three higher.
    assert items["concerns_down"] == pytest.approx(4 / 12, abs=1e-4) and items["concerns_up"] == 0.25
    assert items["strengths_up"] == 0.375 and items["strengths_down"] == 0.25
    assert series(body, "items")["concerns_down"]["total"] == pytest.approx(4 / 12, abs=1e-4)
    # Per reassessment: the first has concerns down and strengths up, the second concerns up and strengths even.
    concerns, strengths = series(body, "by_concerns"), series(body, "by_strengths")
    assert (concerns["down"]["values"][index], concerns["up"]["values"][index]) == (1, 1)
    assert (strengths["up"]["values"][index], strengths["unchanged"]["values"][index]) == (1, 1)
    assert strengths["not_compared"]["total"] == 0
    # And the same as CSV, for a spreadsheet.
    response = client.get(f"{URL}/change{WINDOW}", headers={**manager(issuer, COUNTY), "Accept": "text/csv"})
    table = list(csv.DictReader(io.StringIO(response.text)))
    month = body["months"][index]
    assert {(r["table"], r["series"]) for r in table if r["month"] == month and r["value"] not in ("", "0")} >= {
        ("items", "concerns_down"), ("items", "strengths_up"), ("by_concerns", "down"), ("by_strengths", "up")}


def test_a_redelivered_event_counts_once(county, issuer):
    client, _, journeys = county
    assert not deliver(client, journeys[1].events[0])
    assert series(read(client, issuer, "funnel"), "steps")["referred"]["total"] == 14


def test_indicators_as_csv_in_long_form(county, issuer):
    client, _, _ = county
    response = client.get(f"{URL}/funnel{WINDOW}", headers={**manager(issuer, COUNTY), "Accept": "text/csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    referred = {r["month"]: r["value"] for r in table if r["table"] == "steps" and r["series"] == "referred"}
    assert referred == {"2026-02": "0", "2026-03": "10", "2026-04": "4", "2026-05": "0", "all": "14"}


def test_bad_requests_are_problems(county, issuer):
    client, _, _ = county
    headers = manager(issuer, COUNTY)
    unknown = client.get(f"{URL}/happiness", headers=headers)
    # The indicators are an enum in the OpenAPI document: another name is an invalid path parameter.
    assert unknown.status_code == 422 and unknown.headers["content-type"] == "application/problem+json"
    for query in ("?from=2026-13", "?from=2026-05&to=2026-01", "?from=2020-01&to=2026-01", "?to=june"):
        response = client.get(f"{URL}/funnel{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"


def test_only_the_county_s_managers_read_its_indicators(county, issuer):
    client, _, _ = county
    worker = issuer.headers(tenants={COUNTY: ["case_worker"]}, scope="aggregates:read cases:read")
    assert client.get(f"{URL}/funnel", headers=worker).status_code == 403
    other = manager(issuer, "ke-nairobi")
    assert client.get(f"{URL}/funnel", headers=other).status_code == 404
    assert client.get(f"{URL}/funnel").status_code == 401


def test_the_read_model_holds_no_reference_to_a_person(county):
    _, database, journeys = county
    columns = {r.column_name for r in rows(database.owner, "SELECT column_name FROM information_schema.columns "
                                                         "WHERE table_schema = 'public'")}
    assert not columns & {"subject_ref", "subject_id", "name", "date_of_birth", "given_name", "concern"}
    subjects = {str(j.subject_ref) for j in journeys}
    dumped = rows(database.owner, "SELECT row_to_json(f)::text AS row FROM referral_facts f WHERE tenant_id = :t",
                  t=COUNTY)
    assert dumped and not any(s in r.row for r in dumped for s in subjects)
