"""Two releases of the same months, made at different times, cannot be subtracted to recover a withheld cell.

Between two releases a month's figures change (late referrals arrive, referrals move on through the stages),
and complementary cells are chosen afresh. An attacker holding both knows that the months that did not change
have the same cells in each: one unknown per such cell, constrained by the relations of both releases. A cell
withheld in the first and published in the second is given away outright; a different pattern of complements
can pin one too. Monotone suppression (disclosure.history) withholds in every later release what an earlier one
withheld; the attacker (tests/monitoring/attacker.py) then recovers nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from harambee_monitoring.disclosure.release import ANSWERS, _protected
from harambee_monitoring.disclosure.suppression import protect
from harambee_monitoring.indicators.grid import ALL, CATEGORIES, Grid
from tests.monitoring.attacker import recovered
from tests.monitoring.support import Journey, coordinator, deliver
from tests.support.agreements import agreement_event, agreement_view

THRESHOLD = 5
MONTHS = ["2026-01", "2026-02", "2026-03"]
SOME = {p: CATEGORIES[p] for p in ("stage", "source_type", "gender", "repeat")}


def month_rows(month: str, seed: int, n: int) -> list[tuple[str, str, str, int]]:
    """One month's referrals spread over a few partitions, many of the cells small."""
    chance = random.Random(seed)
    rows = []
    for partition, categories in SOME.items():
        weights = [chance.random() ** 2 for _ in categories]
        picks = chance.choices(categories, weights=weights, k=n)
        rows += [(partition, month, c, picks.count(c)) for c in categories]
    return rows


def two_releases(seed: int) -> tuple[Grid, Grid]:
    """The same three months released twice: in between, more of March's referrals arrived."""
    chance = random.Random(seed)
    sizes = [chance.randint(15, 40) for _ in MONTHS]
    earlier = [r for i, m in enumerate(MONTHS) for r in month_rows(m, seed * 10 + i, sizes[i])]
    later = [r for r in earlier if r[1] != MONTHS[-1]] + month_rows(MONTHS[-1], seed * 10 + 7, sizes[-1] + 4)
    return (Grid.of(earlier, months=MONTHS, categories=SOME), Grid.of(later, months=MONTHS, categories=SOME))


def differenced(first: Grid, second: Grid, first_withheld: set, second_withheld: set) -> set:
    """The cells withheld from the first release that an attacker holding both recovers. January and February did
    not change, so each of their cells is one unknown in both releases; March's and the window's are two."""
    changed = {MONTHS[-1], ALL}
    releases = (("first", first, first_withheld), ("second", second, second_withheld))

    def key(release: str, cell: tuple) -> tuple:
        return (release, cell) if cell[1] in changed else cell

    values: dict = {}
    for release, grid, withheld in releases:
        for cell, count in grid.counts.items():
            if values.get(key(release, cell)) is None:  # a cell published in either release is known
                values[key(release, cell)] = None if cell in withheld else count
    relations = [{key(release, c): k for c, k in relation.items()}
                 for release, grid, _ in releases for relation in grid.relations()]
    pinned = recovered(values, relations)
    return {cell for cell in first_withheld if key("first", cell) in pinned}


SEEDS = range(4)


def test_releases_made_afresh_can_be_differenced():
    leaks = 0
    for seed in SEEDS:
        first, second = two_releases(seed)
        w1 = protect(first.counts, first.relations(), THRESHOLD, cost=first.cost)
        w2 = protect(second.counts, second.relations(), THRESHOLD, cost=second.cost)
        leaks += len(differenced(first, second, w1, w2))
    assert leaks, "the attack must have teeth: without a history, subtraction gives cells away"


@pytest.mark.parametrize("seed", SEEDS)
def test_monotone_suppression_leaves_nothing_to_subtract(seed):
    first, second = two_releases(seed)
    w1 = protect(first.counts, first.relations(), THRESHOLD, cost=first.cost)
    w2 = protect(second.counts, second.relations(), THRESHOLD, withheld=w1, cost=second.cost)
    assert w1 <= w2
    assert differenced(first, second, w1, w2) == set()


def test_a_release_reuses_its_answer_only_while_figures_and_history_are_unchanged():
    first, second = two_releases(0)
    ANSWERS.clear()
    w1 = _protected(first, THRESHOLD, frozenset())
    assert w1 == protect(first.counts, first.relations(), THRESHOLD, cost=first.cost)
    assert _protected(first, THRESHOLD, frozenset()) == w1 and ANSWERS.hits == 1
    # The next release of the same figures finds w1 in the history: the same answer, not solved again.
    assert _protected(first, THRESHOLD, w1) == w1 == protect(first.counts, first.relations(), THRESHOLD,
                                                              withheld=w1, cost=first.cost)
    assert ANSWERS.hits == 2
    # The same figures in another order (the database returns a grid's rows in none): the same question.
    shuffled = Grid.of(reversed([(*cell, n) for cell, n in first.counts.items() if "total" not in cell
                                 and ALL not in cell]), months=MONTHS, categories=SOME)
    assert _protected(shuffled, THRESHOLD, w1) == w1 and ANSWERS.hits == 3
    w2 = _protected(second, THRESHOLD, w1)  # new figures: solved again, from the history
    assert ANSWERS.misses == 2 and w1 <= w2
    assert differenced(first, second, w1, w2) == set()
    # The same figures with a longer history are another question: its answer keeps the whole history.
    history = w1 | {next(cell for cell, n in first.counts.items() if n >= THRESHOLD and cell not in w1)}
    assert _protected(first, THRESHOLD, frozenset(history)) >= history
    assert ANSWERS.misses == 3


def test_the_answers_kept_are_bounded():
    ANSWERS.clear()
    size, ANSWERS.size = ANSWERS.size, 4
    try:
        grids = [two_releases(seed)[0] for seed in range(3)]
        for grid in grids:
            _protected(grid, THRESHOLD, frozenset())  # two entries each: its history before, and after
        assert len(ANSWERS) == 4
        _protected(grids[0], THRESHOLD, frozenset())  # the oldest was dropped: solved again
        assert ANSWERS.misses == 4
    finally:
        ANSWERS.size = size
        ANSWERS.clear()


# --- Through the API: what the national programme read once stays withheld -------------------------------------

COUNTY = "ke-mon-differenced"
NATIONAL = "ke-mon-differencing-national"
WINDOW = "?from=2026-01&to=2026-03"


@pytest.fixture(scope="module")
def shared_county(monitoring):
    """Each month eight referrals from schools and four from health services, shared with NATIONAL."""
    client, _ = monitoring
    for month in (1, 2, 3):
        for day in range(12):
            Journey(COUNTY, datetime(2026, month, 1 + day, tzinfo=UTC),
                    source_type="education" if day < 8 else "health").deliver_to(client)
    view = agreement_view(tenant=COUNTY, parties=[("tenant", NATIONAL)], operations=["read_aggregates"],
                          threshold=THRESHOLD)
    assert deliver(client, agreement_event(view))
    return client


def withheld_cells(body: dict) -> set:
    return {(t["name"], s["key"], month) for t in body["tables"] for s in t["series"] for month in s["withheld"]}


def test_a_cell_once_withheld_from_the_national_programme_stays_withheld(shared_county, issuer):
    client = shared_county
    url = f"/v1/tenants/{COUNTY}/indicators/referrals{WINDOW}"
    first = client.get(url, headers=coordinator(issuer, NATIONAL)).json()
    assert ("by_source_type", "health", "2026-03") in withheld_cells(first)  # four: below the threshold
    # A fifth referral from health services arrives late for March: five is no longer small.
    Journey(COUNTY, datetime(2026, 3, 20, tzinfo=UTC), source_type="health").deliver_to(client)
    second = client.get(url, headers=coordinator(issuer, NATIONAL)).json()
    assert withheld_cells(first) <= withheld_cells(second)
    # Published now, it would be the first release's four plus one: it stays withheld.
    health = next(s for t in second["tables"] if t["name"] == "by_source_type" for s in t["series"]
                  if s["key"] == "health")
    assert health["values"][2] is None
    # The county's own staff see the exact figure.
    exact = client.get(url, headers=issuer.headers(tenants={COUNTY: ["programme_manager"]}, scope="aggregates:read"))
    assert next(s for t in exact.json()["tables"] if t["name"] == "by_source_type" for s in t["series"]
                if s["key"] == "health")["values"][2] == 5
