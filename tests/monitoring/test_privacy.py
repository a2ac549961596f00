"""The differential-privacy mode of an agreement: noisy figures from OpenDP at the scale the terms set, each
release paid for from the agreement's budget of ε for the period, and the release that would exceed it refused."""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from harambee_monitoring.disclosure import privacy
from tests.monitoring.support import Journey, coordinator, deliver
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows

COUNTY = "ke-mon-private"
NATIONAL = "ke-mon-dp-national"
WINDOW = "?from=2026-07&to=2026-08"
TERMS = {"epsilon_per_release": 0.5, "budget_per_period": 1.0, "period": "quarter"}


@pytest.fixture(scope="module")
def private_county(monitoring):
    client, database = monitoring
    for day in range(40):
        journey = Journey(COUNTY, datetime(2026, 7, 1 + day % 28, tzinfo=UTC))
        (journey.supported() if day % 3 else journey.screened("signpost")).deliver_to(client)
    view = agreement_view(tenant=COUNTY, parties=[("tenant", NATIONAL)], operations=["read_aggregates"])
    view["differential_privacy"] = TERMS
    assert deliver(client, agreement_event(view))
    return client, database, view


def test_noise_has_the_scale_the_terms_set():
    scale = privacy.noise_scale(epsilon=0.5, sensitivity=3)
    assert scale == 6.0
    draws = privacy.noisy_counts([1000] * 4000, scale=scale)
    deviations = [abs(d - 1000) for d in draws]
    # Laplace noise of scale b: the mean absolute deviation is b (OpenDP's discrete sampler, within sampling error).
    assert statistics.mean(deviations) == pytest.approx(scale, rel=0.1)
    assert len(set(draws)) > 20  # it is noise, not a constant offset


def test_a_release_is_noisy_labelled_and_paid_for(private_county, issuer):
    client, database, view = private_county
    response = client.get(f"/v1/tenants/{COUNTY}/indicators/funnel{WINDOW}", headers=coordinator(issuer, NATIONAL))
    assert response.status_code == 200, response.text
    protection = response.json()["protection"]
    # The funnel releases three partitions of the referrals: sensitivity 3, scale 3 / ε.
    assert protection == {**protection, "kind": "differential_privacy", "noisy": True, "epsilon": 0.5,
                          "noise_scale": 6.0, "mechanism": "discrete_laplace", "budget_remaining": 0.5,
                          "agreement_id": view["id"]}
    assert protection["budget_period"] == f"{datetime.now(UTC).year}-Q{(datetime.now(UTC).month - 1) // 3 + 1}"
    assert "noise" in protection["note"]
    spends = rows(database.owner, "SELECT epsilon, indicator FROM privacy_spends WHERE tenant_id = :t", t=COUNTY)
    assert [(s.epsilon, s.indicator) for s in spends] == [(0.5, "funnel")]
    released = rows(database.owner, "SELECT data FROM outbox WHERE type = 'indicators.released' AND tenant_id = :t",
                    t=COUNTY)
    assert released[-1].data["protection"] == "differential_privacy" and released[-1].data["epsilon"] == 0.5


def test_the_release_that_would_exceed_the_budget_is_refused(private_county, issuer):
    client, database, _ = private_county
    national = coordinator(issuer, NATIONAL)
    second = client.get(f"/v1/tenants/{COUNTY}/indicators/re-referrals{WINDOW}", headers=national)
    assert second.status_code == 200 and second.json()["protection"]["budget_remaining"] == 0
    third = client.get(f"/v1/tenants/{COUNTY}/indicators/funnel{WINDOW}", headers=national)
    assert third.status_code == 403
    problem = third.json()
    assert third.headers["content-type"] == "application/problem+json"
    assert problem["type"].endswith("/privacy-budget-exhausted")
    assert problem["budget"] == 1.0 and problem["spent"] == 1.0 and problem["requested"] == 0.5
    # Nothing was drawn or spent for the refused release; the national tenant's read of it is refused too.
    assert len(rows(database.owner, "SELECT 1 FROM privacy_spends WHERE tenant_id = :t", t=COUNTY)) == 2
    assert client.get(f"/v1/tenants/{NATIONAL}/indicators/plans{WINDOW}", headers=national).status_code == 403


def test_the_county_s_own_staff_spend_nothing_and_see_exact_figures(private_county, issuer):
    client, database, _ = private_county
    spends = len(rows(database.owner, "SELECT 1 FROM privacy_spends WHERE tenant_id = :t", t=COUNTY))
    staff = issuer.headers(tenants={COUNTY: ["programme_manager"]}, scope="aggregates:read")
    body = client.get(f"/v1/tenants/{COUNTY}/indicators/funnel{WINDOW}", headers=staff).json()
    assert len(rows(database.owner, "SELECT 1 FROM privacy_spends WHERE tenant_id = :t", t=COUNTY)) == spends
    assert body["protection"]["kind"] == "none"
    steps = {s["key"]: s for s in body["tables"][0]["series"]}
    assert steps["referred"]["total"] == 40 and steps["first_session"]["total"] == 26


TIMELY = "ke-mon-private-times"


def test_timeliness_percentiles_are_private_quantiles_paid_for_and_labelled(monitoring, issuer):
    client, database = monitoring
    for day in range(40):  # every referral screened two days after it arrived
        Journey(TIMELY, datetime(2026, 7, 1 + day % 28, 9, tzinfo=UTC)).screened("signpost", days=2).deliver_to(client)
    view = agreement_view(tenant=TIMELY, parties=[("tenant", NATIONAL)], operations=["read_aggregates"])
    # A large ε, so that the quantile lands near the truth; a real agreement's is far smaller (and noisier).
    view["differential_privacy"] = {"epsilon_per_release": 40.0, "budget_per_period": 80.0, "period": "quarter"}
    assert deliver(client, agreement_event(view))
    response = client.get(f"/v1/tenants/{TIMELY}/indicators/timeliness{WINDOW}", headers=coordinator(issuer, NATIONAL))
    assert response.status_code == 200, response.text
    body = response.json()
    protection = body["protection"]
    # p50 and p90 of four intervals: a referral is in eight quantiles, each spending ε / 8.
    assert protection["mechanism"] == "private_quantile" and protection["noisy"] is True
    assert protection["epsilon"] == 40.0 and protection["budget_remaining"] == 40.0
    assert protection["noise_scale"] == pytest.approx(privacy.quantile_scale(epsilon=5.0), rel=1e-4)
    assert "private quantile" in protection["note"]
    screening = {s["key"]: s for t in body["tables"] if t["name"] == "to_screening" for s in t["series"]}
    assert set(screening) == {"p50", "p90"}  # how many were measured is a count: not released
    assert abs(screening["p50"]["values"][0] - 2) <= 3 and all(0 <= v <= 365 for v in screening["p90"]["values"])
    spends = rows(database.owner, "SELECT indicator FROM privacy_spends WHERE tenant_id = :t", t=TIMELY)
    assert [s.indicator for s in spends] == ["timeliness"]


def test_timeliness_is_refused_not_published_exact_once_the_budget_is_spent(private_county, issuer):
    client, _, _ = private_county
    national = coordinator(issuer, NATIONAL)
    for indicator in ("funnel", "re-referrals", "timeliness"):  # whatever the order the module runs in
        response = client.get(f"/v1/tenants/{COUNTY}/indicators/{indicator}{WINDOW}", headers=national)
    assert response.status_code == 403 and response.json()["type"].endswith("/privacy-budget-exhausted")


def test_budget_periods():
    budget = privacy.Budget.of(TERMS)
    assert budget.period_of(datetime(2026, 11, 30, tzinfo=UTC)) == "2026-Q4"
    assert privacy.Budget.of({**TERMS, "period": "month"}).period_of(datetime(2026, 2, 1, tzinfo=UTC)) == "2026-02"
    assert privacy.Budget.of({**TERMS, "period": "year"}).period_of(datetime(2026, 2, 1, tzinfo=UTC)) == "2026"


def test_a_new_period_has_a_new_budget(private_county):
    client, _, view = private_county
    budget = privacy.Budget.of(TERMS)
    agreement = uuid.UUID(view["id"])
    with client.app.state.sessions() as session, session.begin():
        session.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": COUNTY})
        later = datetime(2027, 1, 2, tzinfo=UTC)
        period, remaining = privacy.spend(session=session, tenant=COUNTY, agreement_id=agreement, budget=budget,
                                          indicator="funnel", actor="test", at=later)
        assert (period, remaining) == ("2027-Q1", 0.5)
        session.rollback()  # the test's spend is not kept
