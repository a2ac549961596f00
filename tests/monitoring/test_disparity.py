"""Disparity: each group's share of referrals against its share of the tenant's recorded population, overall and
per source type, with adoption rates beside; a group referred at the threshold (2 by default) times its share or
more is flagged, and the flags lead the indicators' overview."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.monitoring.support import Journey, coordinator, deliver, manager
from tests.support.agreements import agreement_event, agreement_view

COUNTY = "ke-mon-disparity"
NATIONAL = "ke-mon-disparity-national"
WINDOW = "?from=2026-09&to=2026-09"
URL = f"/v1/tenants/{COUNTY}"


@pytest.fixture(scope="module")
def county(monitoring, issuer):
    """40 referrals: young men are a fifth of the population and half of the referrals, nearly all by education."""
    client, _ = monitoring
    day = datetime(2026, 9, 3, tzinfo=UTC)
    plan = ([("18_24", "male", "education")] * 18 + [("18_24", "male", "health")] * 2
            + [("18_24", "female", "health")] * 6 + [("25_34", "male", "cso")] * 7 + [("25_34", "female", "cso")] * 7)
    for i, (age, gender, source) in enumerate(plan):
        journey = Journey(COUNTY, day, age_band=age, gender=gender, source_type=source, is_minor=False)
        (journey.screened("accept").assessed().decided("adopt") if i % 2 else journey.screened("signpost"))
        journey.deliver_to(client)
    headers = manager(issuer, COUNTY)
    figures = {"18_24:male": 20_000, "18_24:female": 20_000, "25_34:male": 30_000, "25_34:female": 30_000}
    assert client.put(f"{URL}/population-figures/age_band_gender", headers=headers,
                      json={"source": "County census 2019", "groups": figures}).status_code == 200
    assert client.put(f"{URL}/population-figures/gender", headers=headers,
                      json={"source": "County census 2019", "groups": {"male": 50_000, "female": 50_000}}
                      ).status_code == 200
    return client


def groups(body: dict, dimension: str, source: str | None = None) -> dict[str, dict]:
    return {g["group"]: g for g in body["groups"] if g["dimension"] == dimension and g["source_type"] == source}


def test_a_group_referred_at_twice_its_share_is_flagged(county, issuer):
    response = county.get(f"{URL}/indicators/disparity{WINDOW}", headers=manager(issuer, COUNTY))
    assert response.status_code == 200, response.text
    body = response.json()
    young_men = groups(body, "age_band_gender")["18_24:male"]
    assert young_men["population_share"] == 0.2 and young_men["referral_share"] == 0.5
    assert young_men["ratio"] == 2.5 and young_men["flagged"]
    assert young_men["referrals_per_10000"] == 10.0
    assert not groups(body, "age_band_gender")["25_34:female"]["flagged"]
    assert not groups(body, "gender")["male"]["flagged"]  # 27 of 40 men against half the population: 1.35
    # By source: education refers no one but young men (ratio 5); health refers young women at 0.75 / 0.2.
    assert groups(body, "age_band_gender", "education")["18_24:male"]["ratio"] == 5.0
    assert groups(body, "age_band_gender", "health")["18_24:female"]["ratio"] == 3.75
    flagged = {(g["dimension"], g["group"], g["source_type"]) for g in body["flagged"]}
    assert {("age_band_gender", "18_24:male", None), ("age_band_gender", "18_24:male", "education"),
            ("age_band_gender", "18_24:female", "health")} <= flagged
    assert body["threshold"] == 2.0 and body["missing_population"] == ["age_band"]


def test_adoption_rates_stand_beside_referral_rates(county, issuer):
    body = county.get(f"{URL}/indicators/disparity{WINDOW}", headers=manager(issuer, COUNTY)).json()
    assert groups(body, "age_band_gender")["18_24:male"]["adoption_rate"] == 0.5
    assert groups(body, "age_band_gender")["18_24:male"]["adopted"] == 10


def test_the_tenant_sets_its_threshold(county, issuer):
    headers = manager(issuer, COUNTY)
    assert county.put(f"{URL}/disparity-threshold", headers=headers, json={"threshold": 3}).status_code == 200
    body = county.get(f"{URL}/indicators/disparity{WINDOW}", headers=headers).json()
    assert body["threshold"] == 3.0
    assert not groups(body, "age_band_gender")["18_24:male"]["flagged"]  # 2.5 < 3
    assert groups(body, "age_band_gender", "education")["18_24:male"]["flagged"]
    assert county.put(f"{URL}/disparity-threshold", headers=headers, json={"threshold": 2}).status_code == 200
    too_low = county.put(f"{URL}/disparity-threshold", headers=headers, json={"threshold": 0.5})
    assert too_low.status_code == 422 and too_low.headers["content-type"] == "application/problem+json"


def test_the_overview_leads_with_the_flags(county, issuer):
    body = county.get(f"{URL}/indicators{WINDOW}", headers=manager(issuer, COUNTY)).json()
    assert body["disparity_flags"] and body["disparity_flags"][0]["flagged"]
    assert "funnel" in body["indicators"] and "disparity" in body["indicators"]


def test_disparity_as_csv_flagged_first(county, issuer):
    response = county.get(f"{URL}/indicators/disparity{WINDOW}",
                          headers={**manager(issuer, COUNTY), "Accept": "text/csv"})
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert table[0]["flagged"] == "True" and table[-1]["flagged"] == "False"


def test_population_figures_are_checked(county, issuer):
    headers = manager(issuer, COUNTY)
    bad = county.put(f"{URL}/population-figures/age_band_gender", headers=headers,
                     json={"source": "x", "groups": {"18_24:robot": 5, "elderly:male": 3, "18_24:female": -1}})
    assert bad.status_code == 422
    assert {e["location"][-1] for e in bad.json()["errors"]} == {"18_24:robot", "elderly:male", "18_24:female"}
    assert county.put(f"{URL}/population-figures/religion", headers=headers,
                      json={"source": "x", "groups": {"a": 1}}).status_code == 404
    assert county.get(f"{URL}/population-figures/age_band", headers=headers).status_code == 404
    assert county.get(f"{URL}/population-figures/gender", headers=headers).json()["groups"] == {
        "male": 50_000, "female": 50_000}
    worker = issuer.headers(tenants={COUNTY: ["case_worker"]}, scope="aggregates:read")
    assert county.put(f"{URL}/population-figures/gender", headers=worker,
                      json={"source": "x", "groups": {"male": 1}}).status_code == 403


def test_the_national_programme_sees_disparity_from_released_counts(county, issuer):
    view = agreement_view(tenant=COUNTY, parties=[("tenant", NATIONAL)], operations=["read_aggregates"], threshold=5)
    assert deliver(county, agreement_event(view))
    body = county.get(f"/v1/tenants/{NATIONAL}/indicators/disparity{WINDOW}", headers=coordinator(issuer, NATIONAL))
    assert body.status_code == 200, body.text
    male = groups(body.json(), "gender")["male"]
    assert male["referrals"] == 27 and male["population"] == 50_000 and male["adopted"] is None
    assert body.json()["protection"]["kind"] == "suppression"
    assert not groups(body.json(), "age_band_gender")  # only the released partitions: no cross-tabulation
