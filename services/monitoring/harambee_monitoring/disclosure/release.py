"""What a reader gets of a grid: exact counts for the county's own staff; for another tenant, under its
agreement, suppressed counts (the agreement's threshold, with complementary cells) or, in the agreement's
differential-privacy mode, noisy counts paid for from its privacy budget."""

from __future__ import annotations

import hashlib
import itertools
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from harambee_common.agreements import Agreement
from harambee_common.db import UnitOfWork
from harambee_monitoring.disclosure import history, privacy
from harambee_monitoring.disclosure.suppression import protect
from harambee_monitoring.indicators.grid import Cell, Grid
from harambee_monitoring.indicators.schemas import Protection

Number = int | float
# Timeliness's differentially private release: p50 and p90 of each of four intervals.
QUANTILES = (0.5, 0.9)
QUANTILE_RELEASES = len(QUANTILES) * 4


@dataclass(frozen=True)
class Reader:
    """Who reads a county's figures: its own staff (no agreement), or another tenant under an agreement."""

    actor: str
    agreement: Agreement | None = None
    recipient: str | None = None


@dataclass
class Published:
    """The values a reader may see (None: withheld), cells that are national sums missing a county's share,
    and how they were protected."""

    values: dict[Cell, Number | None]
    protection: Protection
    partial: set[Cell] = field(default_factory=set)

    @property
    def exact(self) -> bool:
        """Whether these are the county's own exact figures."""
        return self.protection.kind == "none"


def publish(*, uow: UnitOfWork, grid: Grid, partitions: tuple[str, ...], reader: Reader, indicator: str,
            now: datetime | None = None) -> Published:
    """The grid as the reader may see it; a differentially private release spends from the budget first."""
    agreement = reader.agreement
    if agreement is None:
        return Published(values=dict(grid.counts), protection=Protection(kind="none"))
    identity = {"agreement_id": str(agreement.id), "agreement_version": agreement.version}
    terms = agreement.differential_privacy
    if terms is None:
        threshold = agreement.suppression_threshold
        before = history.withheld_before(session=uow.session, agreement_id=agreement.id, grid=grid)
        withheld = _protected(grid, threshold, frozenset(before))
        history.remember(session=uow.session, tenant=uow.tenant, agreement_id=agreement.id, grid=grid,
                         cells=withheld - before, at=now or datetime.now(UTC))
        values = {cell: None if cell in withheld else n for cell, n in grid.counts.items()}
        return Published(values=values, protection=Protection(
            kind="suppression", suppression_threshold=threshold, cells_withheld=len(withheld), **identity))
    budget = privacy.Budget.of(terms)
    period, remaining = privacy.spend(session=uow.session, tenant=uow.tenant, agreement_id=agreement.id,
                                      budget=budget, indicator=indicator, actor=reader.actor,
                                      at=now or datetime.now(UTC))
    if not partitions:
        # Percentiles (timeliness): no counts, but private quantiles (indicators.service.private_timeliness).
        # A referral is measured once per interval, in its own month: each of the QUANTILES per interval spends a
        # share of ε (months are disjoint, so they compose in parallel).
        share = budget.epsilon_per_release / QUANTILE_RELEASES
        scale = privacy.quantile_scale(epsilon=share)
        return Published(values={}, protection=Protection(
            kind="differential_privacy", noisy=True, mechanism=privacy.QUANTILE_MECHANISM,
            epsilon=budget.epsilon_per_release, noise_scale=round(scale, 6), budget_period=period,
            budget_remaining=round(remaining, 9),
            note=f"Each percentile is chosen among whole days 0 to 365 by OpenDP's private quantile (exponential "
                 f"mechanism, scale {scale:.4g}, ε={share:g} each: a referral is measured in "
                 f"{QUANTILE_RELEASES} percentiles); how many were measured is not released.", **identity))
    scale = privacy.noise_scale(epsilon=budget.epsilon_per_release, sensitivity=len(partitions))
    noisy = Grid(months=grid.months, categories={p: grid.categories[p] for p in partitions})
    for p in partitions:
        cells = grid.interior(p)
        noisy.counts.update(zip(cells, privacy.noisy_counts([grid.counts[c] for c in cells], scale=scale),
                                strict=True))
        noisy.add_totals(p)
    return Published(values=dict(noisy.counts), protection=Protection(
        kind="differential_privacy", noisy=True, mechanism=privacy.MECHANISM, epsilon=budget.epsilon_per_release,
        noise_scale=scale, budget_period=period, budget_remaining=round(remaining, 9),
        note=f"Each count has discrete Laplace noise of scale {scale:g} (one referral counts in "
             f"{len(partitions)} table(s)); totals are sums of the noisy counts.", **identity))


class _Answers:
    """Suppression answers already found, least recently used dropped first: at most `size`, each small (a digest of
    the question, the positions of the cells withheld), where the question's own figures take some 200 KB a year."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._answers: OrderedDict[bytes, tuple[int, ...]] = OrderedDict()
        self._lock = threading.Lock()  # requests are served from several threads

    def get(self, key: bytes) -> tuple[int, ...] | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                self.misses += 1
            else:
                self.hits += 1
                self._answers.move_to_end(key)
            return answer

    def put(self, key: bytes, answer: tuple[int, ...]) -> None:
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self.hits = self.misses = 0


ANSWERS = _Answers(size=512)
# Grids laid out alike (one layout per window and set of categories: few) share a number, never given to another
# layout; past LAYOUTS the numbers are forgotten and new ones given (the answers under the old ones are just missed).
LAYOUTS = 64
_layouts: dict[tuple[Cell, ...], int] = {}
_numbers = itertools.count()
_layouts_lock = threading.Lock()


def _layout(cells: tuple[Cell, ...]) -> int:
    with _layouts_lock:
        number = _layouts.get(cells)
        if number is None:
            if len(_layouts) >= LAYOUTS:
                _layouts.clear()
            number = _layouts[cells] = next(_numbers)
        return number


def _question(grid: Grid, cells: tuple[Cell, ...], threshold: int, before: frozenset[Cell]) -> bytes:
    """A digest of everything the answer depends on (SHA-256: two questions sharing one is not a practical risk):
    the cells by their layout's number, their counts in that order and the positions withheld before, as bytes
    (a repr of the cells took ten times as long as the rest of a cached release)."""
    asked = hashlib.sha256(repr((grid.unit, _layout(cells), threshold)).encode())
    asked.update(array("q", grid.counts.values()).tobytes())
    asked.update(array("q", [i for i, cell in enumerate(cells) if cell in before]).tobytes())
    return asked.digest()


def _protected(grid: Grid, threshold: int, before: frozenset[Cell]) -> frozenset[Cell]:
    """The cells to withhold from a grid (suppression.protect): a pure function of the counts, the threshold and
    what was withheld before, so a release whose figures and history have not changed since the last one (a
    national read repeated, every county's release decided again) reuses its answer instead of solving again.

    The answer W is also kept for the history W itself, which is what the next release of the same figures finds
    (this one records W - before): protect starting from W returns W, as W holds every small cell and leaves none
    recoverable. So a repeated read reuses the answer from its second time on, not its third."""
    cells = tuple(grid.counts)  # in the grid's own order (Grid.fill), which the digest covers
    key = _question(grid, cells, threshold, before)
    answer = ANSWERS.get(key)
    if answer is None:
        withheld = protect(grid.counts, grid.relations(), threshold, withheld=before, cost=grid.cost)
        answer = tuple(i for i, cell in enumerate(cells) if cell in withheld)
        ANSWERS.put(key, answer)
        ANSWERS.put(_question(grid, cells, threshold, frozenset(withheld)), answer)
    return frozenset(cells[i] for i in answer)
