"""National oversight: the national tenant reads the same indicators across every county whose agreement in force
grants them — sums of what each county released, never rows or references — and a side-by-side table; every
read is recorded in the county's own log with the agreement it was made under."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.monitoring.support import Journey, coordinator, deliver, manager
from tests.support.agreements import agreement_event, agreement_view
from tests.support.services import rows

NATIONAL = "ke-mon-national"
BIG, SMALL, SUSPENDED, UNSHARED = "ke-mon-big", "ke-mon-small", "ke-mon-suspended", "ke-mon-unshared"
MAY = datetime(2026, 5, 4, tzinfo=UTC)
WINDOW = "?from=2026-05&to=2026-06"


def referrals(tenant: str, n: int, *, supported: int) -> list[Journey]:
    journeys = [Journey(tenant, MAY + timedelta(days=i % 20)) for i in range(n)]
    for journey in journeys[:supported]:
        journey.supported()
    for journey in journeys[supported:]:
        journey.screened("signpost")
    return journeys


@pytest.fixture(scope="module")
def counties(monitoring):
    client, database = monitoring
    made = {BIG: referrals(BIG, 30, supported=12), SMALL: referrals(SMALL, 8, supported=3),
            SUSPENDED: referrals(SUSPENDED, 10, supported=5), UNSHARED: referrals(UNSHARED, 10, supported=5)}
    for journeys in made.values():
        for journey in journeys:
            journey.deliver_to(client)
    agreements = {}
    for county in (BIG, SMALL, SUSPENDED):
        view = agreement_view(tenant=county, parties=[("tenant", NATIONAL)], operations=["read_aggregates"],
                              threshold=5)
        assert deliver(client, agreement_event(view))
        agreements[county] = view
    assert deliver(client, agreement_event({**agreements[SUSPENDED], "version": 2, "status": "suspended"}))
    return client, database, made, agreements


def steps(body: dict) -> dict[str, dict]:
    return {s["key"]: s for s in next(t for t in body["tables"] if t["name"] == "steps")["series"]}


def test_national_figures_sum_the_counties_that_share_them(counties, issuer):
    client, _, _, _ = counties
    response = client.get(f"/v1/tenants/{NATIONAL}/indicators/funnel{WINDOW}", headers=coordinator(issuer, NATIONAL))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counties"] == [BIG, SMALL] and body["counties_excluded"] == [SUSPENDED]
    funnel = steps(body)
    assert funnel["referred"]["values"] == [38, 0]  # 30 + 8: both totals are at least the threshold
    assert funnel["screened"]["total"] == 38
    # The small county's 3 supported referrals are withheld: the national sum is partial, never completed.
    assert funnel["first_session"]["values"][0] == 12 and funnel["first_session"]["partial"] == ["2026-05"]
    assert body["protection"]["kind"] == "suppression" and body["protection"]["cells_withheld"] > 0


def test_side_by_side_county_table(counties, issuer):
    client, _, _, _ = counties
    response = client.get(f"/v1/tenants/{NATIONAL}/indicators/counties{WINDOW}", headers=coordinator(issuer, NATIONAL))
    body = response.json()
    table = {row["county"]: row["figures"] for row in body["counties"]}
    assert set(table) == {BIG, SMALL} and body["counties_excluded"] == [SUSPENDED]
    assert table[BIG]["referred"] == 30 and table[BIG]["consented"] == 12
    assert table[SMALL]["referred"] == 8 and table[SMALL]["consented"] is None  # 3 < 5
    as_csv = client.get(f"/v1/tenants/{NATIONAL}/indicators/counties{WINDOW}",
                        headers={**coordinator(issuer, NATIONAL), "Accept": "text/csv"})
    assert as_csv.text.splitlines()[0].startswith("county,referred,screened")
    assert any(line.startswith(f"{BIG},30,30,") for line in as_csv.text.splitlines())


def test_national_reads_carry_no_rows_and_no_references(counties, issuer):
    client, _, made, _ = counties
    text = "".join(client.get(f"/v1/tenants/{NATIONAL}/indicators/{name}{WINDOW}",
                              headers=coordinator(issuer, NATIONAL)).text
                   for name in ("funnel", "referrals", "re-referrals", "plans", "change", "timeliness", "counties"))
    ids = {str(x) for journeys in made.values() for j in journeys for x in (j.referral_id, j.case_id, j.subject_ref)}
    assert not any(i in text for i in ids)
    uuids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
    assert uuids <= {a["id"] for a in counties[3].values()}  # only the agreements' ids, as the protection's label


def test_every_national_read_is_recorded_in_the_county_s_log_with_its_agreement(counties, issuer):
    client, database, _, agreements = counties
    client.get(f"/v1/tenants/{NATIONAL}/indicators/referrals{WINDOW}", headers=coordinator(issuer, NATIONAL))
    for county in (BIG, SMALL):
        applied = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.applied' AND tenant_id = :t "
                       "ORDER BY seq", t=county)
        assert applied[-1].data["agreement_id"] == agreements[county]["id"]
        assert applied[-1].data["party"] == {"kind": "tenant", "id": NATIONAL}
        released = rows(database.owner, "SELECT data FROM outbox WHERE type = 'indicators.released' AND tenant_id = :t "
                        "ORDER BY seq", t=county)
        assert released[-1].data["indicator"] == "referrals" and released[-1].data["recipient"] == NATIONAL
        assert released[-1].data["agreement_id"] == agreements[county]["id"]
        assert released[-1].data["protection"] == "suppression" and released[-1].data["suppression_threshold"] == 5
    refused = rows(database.owner, "SELECT data FROM outbox WHERE type = 'agreement.refused' AND tenant_id = :t "
                   "ORDER BY seq", t=SUSPENDED)
    assert refused and refused[-1].data["agreement_id"] == agreements[SUSPENDED]["id"]
    assert not rows(database.owner, "SELECT 1 FROM outbox WHERE type = 'indicators.released' AND tenant_id = :t",
                    t=SUSPENDED)


def test_a_coordinator_reads_one_county_under_its_agreement_only(counties, issuer):
    client, _, _, _ = counties
    national = coordinator(issuer, NATIONAL)
    shared = client.get(f"/v1/tenants/{BIG}/indicators/funnel{WINDOW}", headers=national)
    assert shared.status_code == 200 and shared.json()["protection"]["suppression_threshold"] == 5
    for county in (SUSPENDED, UNSHARED):
        refused = client.get(f"/v1/tenants/{county}/indicators/funnel{WINDOW}", headers=national)
        assert refused.status_code == 403 and refused.json()["type"].endswith("/no-agreement")
    # A county manager reading the national tenant's figures is not the national programme.
    assert client.get(f"/v1/tenants/{NATIONAL}/indicators/funnel", headers=manager(issuer, BIG)).status_code == 404
    assert client.get(f"/v1/tenants/{BIG}/indicators/counties", headers=manager(issuer, BIG)).status_code == 404


def test_the_county_table_is_the_national_programme_s_only(counties, issuer):
    client, _, _, _ = counties
    response = client.get(f"/v1/tenants/{BIG}/indicators/counties", headers=coordinator(issuer, NATIONAL))
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_the_national_tenant_reads_each_county_s_own_timeliness(counties, issuer):
    client, _, _, _ = counties
    body = client.get(f"/v1/tenants/{NATIONAL}/indicators/timeliness{WINDOW}",
                      headers=coordinator(issuer, NATIONAL)).json()
    tables = {t["name"]: {s["key"]: s for s in t["series"]} for t in body["tables"]}
    # Percentiles do not add up across counties: each county's, from its own figures (30 screened a day after).
    assert tables[f"{BIG}:to_screening"]["p50"]["values"][0] == 1.0
    # Eight referrals in the small county: measured often enough (the threshold is 5) to be shown too.
    assert tables[f"{SMALL}:to_screening"]["p50"]["values"][0] == 1.0
