"""Suppression an attacker cannot undo: small counts are withheld with complementary cells, so that no withheld
cell can be recovered from row totals, column totals, or the other tables released of the same referrals.

The attacker (tests/monitoring/attacker.py) solves integer programmes over everything a release shows. It
recovers cells when only the small ones are withheld, which shows it has teeth, and nothing from the releases
monitoring makes, whether built here or read through the API by the national programme.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from harambee_monitoring.disclosure.suppression import protect, recoverable
from harambee_monitoring.indicators.grid import ALL, CATEGORIES, CHANGE_CATEGORIES, STAGES, TOTAL, Grid
from harambee_monitoring.indicators.service import STEPS
from tests.monitoring.attacker import bounds_of_withheld, recovered
from tests.monitoring.support import Journey, coordinator, deliver
from tests.support.agreements import agreement_event, agreement_view

THRESHOLD = 5
MONTHS = ["2026-01", "2026-02", "2026-03"]
SOME = {p: CATEGORIES[p] for p in ("stage", "source_type", "gender", "follow_up_6")}


def random_grid(seed: int) -> Grid:
    """Three months of referrals spread over a few partitions, many of the cells small."""
    chance = random.Random(seed)
    rows = []
    for month in MONTHS:
        n = chance.randint(15, 60)
        for partition, categories in SOME.items():
            if partition == "follow_up_6":
                continue
            weights = [chance.random() ** 2 for _ in categories]
            picks = chance.choices(categories, weights=weights, k=n)
            rows += [(partition, month, c, picks.count(c)) for c in categories]
        closed = sum(count for p, m, c, count in rows if p == "stage" and m == month and c.startswith("closed_"))
        picks = chance.choices(CATEGORIES["follow_up_6"], k=closed)
        rows += [("follow_up_6", month, c, picks.count(c)) for c in CATEGORIES["follow_up_6"]]
    return Grid.of(rows, months=MONTHS, categories=SOME)


def withheld_view(grid: Grid, withheld: set) -> dict:
    return {cell: None if cell in withheld else n for cell, n in grid.counts.items()}


def test_primary_suppression_alone_gives_cells_away():
    grid = random_grid(1)
    primary = {cell for cell, n in grid.counts.items() if 0 < n < THRESHOLD}
    assert primary
    bounds = bounds_of_withheld(withheld_view(grid, primary), grid.relations())
    stolen = {cell for cell, (low, high) in bounds.items() if low == high}
    assert stolen and all(bounds[c][0] == grid.counts[c] for c in stolen)
    assert recoverable(primary, grid.relations())  # the engine sees the same exposure


@pytest.mark.parametrize("seed", range(6))
def test_complementary_suppression_leaves_every_withheld_cell_an_interval(seed):
    grid = random_grid(seed)
    withheld = protect(grid.counts, grid.relations(), THRESHOLD, cost=grid.cost)
    assert {cell for cell, n in grid.counts.items() if 0 < n < THRESHOLD} <= withheld
    bounds = bounds_of_withheld(withheld_view(grid, withheld), grid.relations())
    assert not {cell for cell, (low, high) in bounds.items() if low == high}
    assert all(low <= grid.counts[cell] <= high for cell, (low, high) in bounds.items())


SPARSE = ["2026-01", "2026-02", "2026-03", "2026-04"]


def sparse_grid(seed: int) -> Grid:
    """Four months, the second sparse (three referrals: every count in it is small, its total too)."""
    chance = random.Random(seed)
    rows = []
    for month, n in zip(SPARSE, (40, 3, 35, 50), strict=True):
        for partition, categories in SOME.items():
            if partition != "follow_up_6":
                picks = chance.choices(categories, weights=[chance.random() ** 2 for _ in categories], k=n)
                rows += [(partition, month, c, picks.count(c)) for c in categories]
        closed = sum(count for p, m, c, count in rows if p == "stage" and m == month and c.startswith("closed_"))
        picks = chance.choices(CATEGORIES["follow_up_6"], k=closed)
        rows += [("follow_up_6", month, c, picks.count(c)) for c in CATEGORIES["follow_up_6"]]
    return Grid.of(rows, months=SPARSE, categories=SOME)


def test_a_sparse_month_does_not_take_the_other_months_with_it():
    # A month whose total is small withholds its total in every table, and another month's with it; choosing
    # complements by cost keeps most of the other months' publishable cells (the previous choice withheld nine in
    # ten of them).
    published = publishable = 0
    for seed in range(4):
        grid = sparse_grid(seed)
        withheld = protect(grid.counts, grid.relations(), THRESHOLD, cost=grid.cost)
        healthy = [c for c, n in grid.counts.items() if c[1] not in (SPARSE[1], ALL) and n >= THRESHOLD]
        publishable += len(healthy)
        published += sum(1 for c in healthy if c not in withheld)
        assert all(grid.counts[c] > 0 for c in withheld)  # no zero withheld: non-negativity would pin it
    assert published / publishable >= 0.3


@pytest.mark.parametrize("seed", range(2))
def test_a_sparse_month_gives_nothing_away(seed):
    grid = sparse_grid(seed)
    withheld = protect(grid.counts, grid.relations(), THRESHOLD, cost=grid.cost)
    assert {(p, SPARSE[1], TOTAL) for p in SOME if p != "follow_up_6"} <= withheld
    bounds = bounds_of_withheld(withheld_view(grid, withheld), grid.relations())
    assert not {cell for cell, (low, high) in bounds.items() if low == high}


def test_nothing_needs_withholding_when_no_count_is_small():
    grid = Grid.of([("gender", m, g, 10) for m in MONTHS for g in CATEGORIES["gender"]], months=MONTHS,
                   categories={"gender": CATEGORIES["gender"]})
    assert protect(grid.counts, grid.relations(), THRESHOLD) == set()


# --- The same attack on what the national programme reads through the API -------------------------------------

COUNTY = "ke-mon-attacked"
NATIONAL = "ke-mon-attack-national"
WINDOW = "?from=2026-01&to=2026-03"


@pytest.fixture(scope="module")
def shared_county(monitoring):
    """A county with a few dozen referrals over three months, sharing suppressed aggregates with NATIONAL."""
    client, _ = monitoring
    chance = random.Random(7)
    steps = [
        lambda j: j, lambda j: j.screened("signpost"), lambda j: j.screened("no_further_action"),
        lambda j: j.screened("escalate"), lambda j: j.screened("accept").assessed().decided("decline"),
        lambda j: j.supported(), lambda j: j.supported().closed("vulnerability_removed").followed_up(6),
        lambda j: j.supported().closed("no_engagement"),
    ]
    for month in (1, 2, 3):
        for day in range(chance.randint(12, 20)):
            journey = Journey(COUNTY, datetime(2026, month, 1 + day, tzinfo=UTC),
                              source_type=chance.choice(["education", "health", "cso", "family_or_friend"]),
                              age_band=chance.choice(["15_17", "18_24", "25_34"]),
                              gender=chance.choice(["female", "male"]), repeat=chance.random() < 0.2)
            chance.choice(steps)(journey)
            if chance.random() < 0.3 and journey.case_id and any(e.type == "case.consented" for e in journey.events):
                improved, worsened = chance.randint(0, 8), chance.randint(0, 3)
                down, up = min(improved, 5), min(worsened, 5 - min(improved, 5))  # five concerns, three strengths
                journey.assessed(days=60, supersedes=journey.assessment_id, compared=8, improved=improved,
                                 worsened=worsened, concerns_compared=5, concerns_down=down, concerns_up=up,
                                 strengths_compared=3, strengths_up=improved - down, strengths_down=worsened - up)
            journey.deliver_to(client)
    view = agreement_view(tenant=COUNTY, parties=[("tenant", NATIONAL)], operations=["read_aggregates"],
                          threshold=THRESHOLD)
    assert deliver(client, agreement_event(view))
    return client


def released_cells(bodies: list[dict]) -> tuple[dict, list[dict]]:
    """Every cell the releases show, by (partition, month, category), and the funnel steps as relations."""
    cells: dict = {}
    relations: list[dict] = []
    for body in bodies:
        months = body["months"]
        for table in body.get("tables", []):
            name = table["name"]
            for s in table["series"]:
                for month, value in [*zip(months, s["values"], strict=True), (ALL, s["total"])]:
                    if name.startswith("by_") and name[3:] in {*CATEGORIES, *CHANGE_CATEGORIES}:
                        cell = (name[3:], month, s["key"])
                        assert cells.get(cell, value) == value, f"two releases disagree on {cell}"
                        cells[cell] = value
                    elif name == "steps" and s["key"] in STEPS and value is not None:
                        relations.append({**{("stage", month, k): 1 for k in STEPS[s["key"]]}, "_": 0,
                                          ("_step", month, s["key"]): -1})
                        cells[("_step", month, s["key"])] = value
        for row in body.get("counties", []) or []:
            if isinstance(row, dict):
                for key, value in row["figures"].items():
                    if key in STEPS and value is not None:
                        relations.append({**{("stage", ALL, k): 1 for k in STEPS[key]}, ("_county", key): -1})
                        cells[("_county", key)] = value
    for relation in relations:
        relation.pop("_", None)
    return cells, relations


def test_the_national_programme_cannot_recover_a_withheld_cell(shared_county, issuer):
    client = shared_county
    national = coordinator(issuer, NATIONAL)
    bodies = []
    for indicator in ("funnel", "referrals", "re-referrals", "plans", "change", "timeliness"):
        for tenant in (COUNTY, NATIONAL):
            response = client.get(f"/v1/tenants/{tenant}/indicators/{indicator}{WINDOW}", headers=national)
            assert response.status_code == 200, response.text
            bodies.append(response.json())
    counties = client.get(f"/v1/tenants/{NATIONAL}/indicators/counties{WINDOW}", headers=national)
    assert counties.status_code == 200
    bodies.append(counties.json())

    cells, steps = released_cells(bodies)
    withheld = {c for c, v in cells.items() if v is None}
    assert withheld, "the county's small counts must have been withheld"
    referral_grid = Grid(months=MONTHS, categories=CATEGORIES)
    change_grid = Grid(months=MONTHS, categories=CHANGE_CATEGORIES)
    relations = referral_grid.relations() + change_grid.relations() + steps
    assert recovered(cells, relations) == set()


def test_every_small_count_is_withheld_from_the_national_programme(shared_county, issuer):
    client = shared_county
    exact = client.get(f"/v1/tenants/{COUNTY}/indicators/funnel{WINDOW}",
                       headers=issuer.headers(tenants={COUNTY: ["programme_manager"]}, scope="aggregates:read"))
    shared = client.get(f"/v1/tenants/{COUNTY}/indicators/funnel{WINDOW}", headers=coordinator(issuer, NATIONAL))
    exact_cells, _ = released_cells([exact.json()])
    shared_cells, _ = released_cells([shared.json()])
    small = {c for c, n in exact_cells.items() if c[0] == "stage" and n is not None and 0 < n < THRESHOLD}
    assert small and all(shared_cells[c] is None for c in small)
    published = {c for c, n in shared_cells.items() if n is not None and c[0] == "stage"}
    assert all(shared_cells[c] == exact_cells[c] for c in published)  # what is shown is exact
    assert shared.json()["protection"]["suppression_threshold"] == THRESHOLD
    assert shared.json()["protection"]["cells_withheld"] >= len(small)
    assert STAGES[0] in {c[2] for c in shared_cells}
    assert TOTAL in {c[2] for c in shared_cells}
