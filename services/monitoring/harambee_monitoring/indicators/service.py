"""County indicators: the funnel, timeliness, referrals, re-referrals, plans and change, from the read model.

Every indicator is built from a `Published` grid, whatever the reader: exact for the county's staff,
suppressed or noisy for another tenant under an agreement (disclosure.release), and summed over counties
for the national programme (national.service). Derived figures (funnel steps, conversion, rates) are
computed from published values only, so they give nothing away that the cells do not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise

from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, ValidationFailed
from harambee_monitoring.disclosure import privacy
from harambee_monitoring.disclosure.release import QUANTILES, Number, Published, Reader, publish
from harambee_monitoring.indicators import repository
from harambee_monitoring.indicators.grid import (
    ALL,
    CATEGORIES,
    CHANGE_CATEGORIES,
    CLOSED_STAGES,
    EXIT_REASONS,
    STAGES,
    TOTAL,
    TRANSFER_CATEGORIES,
    TRANSFERRED_OUT,
    Grid,
)
from harambee_monitoring.indicators.repository import Window
from harambee_monitoring.indicators.schemas import IndicatorView, Protection, Series, Table


def _from(stage: str, *, but: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The stages from one on, in lifecycle order (grid.STAGES), less some."""
    return tuple(s for s in STAGES[STAGES.index(stage):] if s not in but)


# The funnel's steps, each a sum of stages. A case transferred to another county counts in the steps it reached
# here (accepted, and assessed if it was) and in `transferred_out`, not in the later ones.
STEPS: dict[str, tuple[str, ...]] = {
    "referred": STAGES,
    "screened": STAGES[1:],
    "screened_escalate": ("screened_escalate",),
    "screened_signpost": ("screened_signpost",),
    "screened_no_further_action": ("screened_no_further_action",),
    "accepted": _from("accepted_awaiting_assessment"),
    "assessed": _from("assessed_awaiting_panel"),
    "decided": _from("panel_decline"),
    "decided_decline": ("panel_decline",),
    "decided_signpost": ("panel_signpost",),
    "decided_escalate": ("panel_escalate",),
    "adopted": _from("adopted_awaiting_consent"),
    "consented": _from("consented_awaiting_session"),
    "first_session": ("in_support", *(f"closed_{r}" for r in EXIT_REASONS)),
    "closed": CLOSED_STAGES,
    "transferred_out": TRANSFERRED_OUT,
}
# Conversion: each main step over the one before it.
MAIN_STEPS = ("referred", "screened", "accepted", "assessed", "decided", "adopted", "consented", "first_session",
              "closed", "follow_up_6", "follow_up_12")
COMPLETED = ("closed_vulnerability_removed", "closed_substantially_reduced")

# The partitions each indicator releases (their count is a differentially private release's sensitivity).
PARTITIONS: dict[str, tuple[str, ...]] = {
    "funnel": ("stage", "follow_up_6", "follow_up_12"),
    "referrals": ("source_type", "age_band", "gender", "minor", "concern_type"),
    "re-referrals": ("repeat",),
    "plans": ("stage",),
    "timeliness": (),
    "change": tuple(CHANGE_CATEGORIES),
    "transfers": tuple(TRANSFER_CATEGORIES),
}
INDICATORS = tuple(PARTITIONS)
MAX_MONTHS = 36


@dataclass(frozen=True)
class Period:
    """The months asked for, as a window of referral dates."""

    months: list[str]
    window: Window

    @classmethod
    def of(cls, start: str | None, end: str | None, *, today: date | None = None) -> Period:
        """From month `start` to month `end` (YYYY-MM, inclusive); by default the last twelve months."""
        today = today or datetime.now(UTC).date()
        last = _month(end, "to") if end else (today.year, today.month)
        first = _month(start, "from") if start else _shift(last, -11)
        count = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
        if count < 1 or count > MAX_MONTHS:
            raise ValidationFailed(f"Ask for 1 to {MAX_MONTHS} months, `from` before `to`.")
        months = [_shift(first, i) for i in range(count)]
        after = _shift(last, 1)
        return cls(months=[f"{y:04d}-{m:02d}" for y, m in months],
                   window=Window(start=datetime(*first, 1, tzinfo=UTC), end=datetime(*after, 1, tzinfo=UTC)))


def _month(text: str, name: str) -> tuple[int, int]:
    try:
        moment = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValidationFailed(f"`{name}` is a month, YYYY-MM.") from None
    return moment.year, moment.month


def _shift(month: tuple[int, int], by: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


def referral_grid(*, uow: UnitOfWork, period: Period) -> Grid:
    """Every partition of the period's referrals, by month."""
    rows = repository.partition_counts(session=uow.session, window=period.window, partitions=tuple(CATEGORIES))
    return Grid.of(rows, months=period.months, categories=CATEGORIES)


def change_grid(*, uow: UnitOfWork, period: Period) -> Grid:
    """Reassessments by month approved and net direction: over all items, over concerns, over strengths."""
    rows = repository.reassessment_counts(session=uow.session, window=period.window)
    return Grid.of(rows, months=period.months, categories=CHANGE_CATEGORIES, unit="reassessments")


def transfer_grid(*, uow: UnitOfWork, period: Period) -> Grid:
    """Cases transferred in and out by month of transfer, and where each is now."""
    rows = repository.transfer_counts(session=uow.session, window=period.window)
    return Grid.of(rows, months=period.months, categories=TRANSFER_CATEGORIES, unit="transfers")


def grid_for(*, uow: UnitOfWork, period: Period, indicator: str) -> Grid:
    """The grid an indicator is released from."""
    grids = {"change": change_grid, "transfers": transfer_grid}
    return grids.get(indicator, referral_grid)(uow=uow, period=period)


def county_indicator(*, uow: UnitOfWork, period: Period, indicator: str, reader: Reader) -> IndicatorView:
    """One indicator of the unit of work's county, as the reader may see it."""
    if indicator not in PARTITIONS:
        raise NotFound(f"No indicator {indicator!r}; the indicators are: {', '.join(INDICATORS)}.")
    grid = grid_for(uow=uow, period=period, indicator=indicator)
    published = publish(uow=uow, grid=grid, partitions=PARTITIONS[indicator], reader=reader, indicator=indicator)
    tables = build(indicator, published=published, months=period.months)
    if published.exact:
        tables += county_only(indicator, uow=uow, period=period)
    elif indicator == "timeliness":
        tables = protected_timeliness(uow=uow, period=period, protection=published.protection)
    return IndicatorView(tenant=uow.tenant, indicator=indicator, months=period.months,
                         protection=published.protection, tables=tables)


def build(indicator: str, *, published: Published, months: list[str]) -> list[Table]:
    """The tables of an indicator that come from published counts (for any reader, and summed nationally)."""
    return BUILDERS[indicator](published, months)


# --- Series from published values -----------------------------------------------------------------------


def _series(key: str, published: Published | None, months: list[str], value: Callable[[str], Number | None],
            withheld: Callable[[str], bool] | None = None) -> Series:
    """A series of `value` by month; `withheld` says where a null hides a figure (default: wherever it is null),
    rather than marking one that is not defined (a rate of nothing)."""
    values = [value(m) for m in months]
    hidden = withheld or (lambda m: values[months.index(m)] is None)
    partial = [m for m in months if published is not None and _is_partial(published, m, key)]
    return Series(key=key, values=values, total=value(ALL), withheld=[m for m in months if hidden(m)],
                  partial=partial)


def _is_partial(published: Published, month: str, key: str) -> bool:
    return any(cell[1] == month and (cell[2] == key or key in STEPS) for cell in published.partial)


def _sum(published: Published, partition: str, month: str, categories: tuple[str, ...]) -> Number | None:
    values = [published.values.get((partition, month, k)) for k in categories]
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _ratio(numerator: Number | None, denominator: Number | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return round(numerator / denominator, 4)


def partition_table(published: Published, months: list[str], partition: str, description: str) -> Table:
    """A partition's counts, one series per category and one for the total."""
    categories = [k for (p, _, k) in published.values if p == partition and k != TOTAL]
    ordered = list(dict.fromkeys(categories))
    return Table(name=f"by_{partition}", description=description, unit="count", series=[
        _series(k, published, months, lambda m, k=k: published.values.get((partition, m, k)))
        for k in [*ordered, TOTAL]
    ])


def step(published: Published, name: str, month: str) -> Number | None:
    """A funnel step's count in a month: a sum of stages (or the total less the stages outside it), or the
    follow-ups recorded. Of the ways the published values give it, a complete one is preferred to a national
    sum that misses a county's withheld cell."""
    if name in ("follow_up_6", "follow_up_12"):
        ways = [((name, month, TOTAL),), ((name, month, "not_yet"),)]
        closed, pending = (published.values.get(c[0]) for c in ways)
        return None if closed is None or pending is None else closed - pending
    inside = [("stage", month, s) for s in STEPS[name]]
    outside = [("stage", month, s) for s in STAGES if s not in STEPS[name]]
    ways = [(inside, []), ([("stage", month, TOTAL)], outside)]
    found = [(any(c in published.partial for c in plus + minus), _signed_sum(published, plus, minus))
             for plus, minus in ways]
    usable = sorted((partial, i) for i, (partial, value) in enumerate(found) if value is not None)
    return found[usable[0][1]][1] if usable else None


def _signed_sum(published: Published, plus: list, minus: list) -> Number | None:
    values = [published.values.get(c) for c in plus + minus]
    if any(v is None for v in values):
        return None
    return sum(values[:len(plus)]) - sum(values[len(plus):])  # type: ignore[arg-type]


def funnel(published: Published, months: list[str]) -> list[Table]:
    """Counts at each step, conversion from each main step to the next, and the stages they are made of."""
    names = [*STEPS, "follow_up_6", "follow_up_12"]
    steps = Table(name="steps", unit="count", description="Referrals of each month that reached each step "
                  "(screening and panel outcomes, exit reasons and follow-ups at 6 and 12 months included)",
                  series=[_series(n, published, months, lambda m, n=n: step(published, n, m)) for n in names])
    conversion = Table(name="conversion", unit="share", description="Share of the previous step that reached "
                       "this one", series=[
                           _series(b, published, months,
                                   lambda m, a=a, b=b: _ratio(step(published, b, m), step(published, a, m)),
                                   lambda m, a=a, b=b: step(published, b, m) is None or step(published, a, m) is None)
                           for a, b in pairwise(MAIN_STEPS)
                       ])
    closed = Table(name="closed_by_exit_reason", unit="count", description="Cases closed after support began, "
                   "by exit reason (`closed_before_support`: closed before any session)", series=[
                       _series(s, published, months, lambda m, s=s: published.values.get(("stage", m, s)))
                       for s in CLOSED_STAGES
                   ])
    return [steps, conversion, closed, *partition_tables({
        "stage": "Where each referral is now (or ended): the stages add up",
        "follow_up_6": "Closed cases by their 6-month follow-up",
        "follow_up_12": "Closed cases by their 12-month follow-up",
    })(published, months)]


def partition_tables(descriptions: dict[str, str]) -> Callable[[Published, list[str]], list[Table]]:
    """A builder of one partition_table for each partition described, in order."""
    def build(published: Published, months: list[str]) -> list[Table]:
        return [partition_table(published, months, p, description) for p, description in descriptions.items()]
    return build


# Referrals by source type, age band, gender, minor status and concern type.
referrals = partition_tables({
    "source_type": "Referrals by who referred",
    "age_band": "Referrals by the person's age band",
    "gender": "Referrals by the person's gender",
    "minor": "Referrals of minors and adults",
    "concern_type": "Referrals by the strongest kind of indicator named: behaviour, else context, else belief alone",
})


def re_referrals(published: Published, months: list[str]) -> list[Table]:
    """Referrals of people already known, and their share of all referrals."""
    rate = Table(name="re_referral_rate", unit="share", description="Share of referrals about a person already "
                 "known", series=[_series("re_referral_rate", published, months, lambda m: _ratio(
                     published.values.get(("repeat", m, "repeat")), published.values.get(("repeat", m, TOTAL))),
                     lambda m: published.values.get(("repeat", m, "repeat")) is None)])
    return [partition_table(published, months, "repeat", "First and repeat referrals"), rate]


def plans(published: Published, months: list[str]) -> list[Table]:
    """Plans completed (closed with the vulnerability removed or substantially reduced) among those closed."""
    def completed(m: str) -> Number | None:
        return _sum(published, "stage", m, COMPLETED)

    return [
        Table(name="plans", unit="count", description="Cases closed, and those closed as completed", series=[
            _series("closed", published, months, lambda m: step(published, "closed", m)),
            _series("completed", published, months, completed),
            _series("in_support", published, months, lambda m: published.values.get(("stage", m, "in_support"))),
        ]),
        Table(name="completion_rate", unit="share", description="Completed among those closed", series=[
            _series("completion_rate", published, months, lambda m: _ratio(completed(m), step(published, "closed", m)),
                    lambda m: completed(m) is None or step(published, "closed", m) is None)
        ]),
    ]


# Reassessments by month approved and net direction: over all items, concerns and strengths.
change = partition_tables({
    "direction": "Reassessments by net change since the previous assessment (items improved: a concern rated lower "
                 "or a strength higher)",
    "concerns": "Reassessments by net change in concerns: `down` where more concerns were rated lower than higher",
    "strengths": "Reassessments by net change in strengths and protective factors: `up` where more were rated "
                 "higher than lower",
})
# Cases transferred in from and out to other counties, by month of transfer, and where each is now.
transfers = partition_tables({
    "transfer": "Cases transferred in from another county (counted here from the month this county took them over) "
                "and out to another",
    "now": "Where each case transferred in is now (`transferred_out`: the cases transferred out)",
})


def _no_counts(_published: Published, _months: list[str]) -> list[Table]:
    return []


BUILDERS: dict[str, Callable[[Published, list[str]], list[Table]]] = {
    "funnel": funnel, "referrals": referrals, "re-referrals": re_referrals, "plans": plans, "change": change,
    "timeliness": _no_counts, "transfers": transfers,
}


# --- What only the county's own staff see -----------------------------------------------------------------


def county_only(indicator: str, *, uow: UnitOfWork, period: Period) -> list[Table]:
    """Figures that are not partitions (codes a referral names several of, percentiles, item sums)."""
    if indicator == "timeliness":
        return timeliness_tables(uow=uow, period=period, threshold=None)
    if indicator == "referrals":
        rows = repository.indicator_counts(session=uow.session, window=period.window)
        return [_code_table("by_indicator", "Referrals naming each indicator code (a referral names several)",
                            rows, period.months)]
    if indicator == "plans":
        rows = repository.intervention_type_counts(session=uow.session, window=period.window)
        return [_code_table("by_intervention_type", "Cases whose plan uses each intervention type", rows,
                            period.months)]
    if indicator == "change":
        return [item_shares(uow=uow, period=period)]
    return []


# The county's item shares: each series is a sum of items over the sum of the items it is a share of.
ITEM_SHARES = {
    "improved": ("items_improved", "items_compared"), "worsened": ("items_worsened", "items_compared"),
    "concerns_down": ("concerns_down", "concerns_compared"), "concerns_up": ("concerns_up", "concerns_compared"),
    "strengths_up": ("strengths_up", "strengths_compared"), "strengths_down": ("strengths_down", "strengths_compared"),
}


def item_shares(*, uow: UnitOfWork, period: Period) -> Table:
    """Of the items rated in both assessments, the shares improved and worsened; of the concerns, down and up; of
    the strengths, up and down (null where none of that kind was compared)."""
    sums: dict[str, dict[str, int]] = {}
    for month, *values in repository.reassessment_items(session=uow.session, window=period.window):
        sums[month] = {c: int(v or 0) for c, v in zip(repository.ITEM_SUMS, values, strict=True)}
    sums[ALL] = {c: sum(s[c] for s in sums.values()) for c in repository.ITEM_SUMS}

    def share(m: str, key: str) -> float | None:
        part, whole = ITEM_SHARES[key]
        return _ratio(sums[m][part], sums[m][whole]) if m in sums else None

    return Table(name="items", unit="share", description="Of the items rated in both assessments, the share that "
                 "improved and worsened; of the concerns, the share rated lower (down) and higher (up); of the "
                 "strengths and protective factors, the share rated higher (up) and lower (down)",
                 series=[_series(k, None, period.months, lambda m, k=k: share(m, k), _never) for k in ITEM_SHARES])


def _never(_month: str) -> bool:
    return False


def _code_table(name: str, description: str, rows: list[tuple[str, str, int]], months: list[str]) -> Table:
    by_code: dict[str, dict[str, int]] = {}
    for month, code, count in rows:
        by_code.setdefault(code, {})[month] = int(count)
    return Table(name=name, description=description, unit="count", series=[
        _series(code, None, months, lambda m, c=counts: c.get(m, 0) if m != ALL else sum(c.values()))
        for code, counts in sorted(by_code.items())
    ])


def protected_timeliness(*, uow: UnitOfWork, period: Period, protection: Protection) -> list[Table]:
    """Timeliness as another tenant may see it: percentiles of the months measured often enough (suppression), or
    private quantiles (differential privacy, at the scale the release states)."""
    if protection.kind == "suppression":
        return timeliness_tables(uow=uow, period=period, threshold=protection.suppression_threshold)
    assert protection.noise_scale is not None
    days = {(m, name): [float(d) for d in values] for m, name, values in
            repository.timeliness_days(session=uow.session, window=period.window)}
    tables = []
    for interval in repository.INTERVALS:
        series = [_series(f"p{round(q * 100)}", None, period.months, lambda m, q=q, interval=interval: None
                          if m == ALL else round(privacy.noisy_quantile(days.get((m, interval), []), alpha=q,
                                                                        scale=protection.noise_scale), 2), _never)
                  for q in QUANTILES]
        tables.append(Table(name=interval, unit="days", description=f"Days from referral {interval.replace('_', ' ')}"
                            " (p50 and p90 by month of referral, each a private quantile: noisy)", series=series))
    return tables


def timeliness_tables(*, uow: UnitOfWork, period: Period, threshold: int | None) -> list[Table]:
    """Days from referral to each step, p50 and p90 by month of referral. For another tenant (a threshold), only
    the months where at least that many referrals were measured, and not how many: that count is a funnel cell."""
    rows = repository.timeliness(session=uow.session, window=period.window)
    measured = {(m, name): (int(n), p50, p90) for m, name, n, p50, p90 in rows}
    tables = []
    for interval in repository.INTERVALS:
        def count(m: str, interval: str = interval) -> int:
            return measured.get((m, interval), (0,))[0]

        def too_few(m: str) -> bool:
            return threshold is not None and 0 < count(m) < threshold

        def quantile(m: str, which: int, interval: str = interval) -> float | None:
            if m == ALL or too_few(m) or (m, interval) not in measured:
                return None
            value = measured[(m, interval)][which]
            return None if value is None else round(float(value), 2)

        series = [_series(f"p{q}", None, period.months, lambda m, i=i: quantile(m, i), too_few)
                  for i, q in ((1, 50), (2, 90))]
        if threshold is None:
            series.append(_series("measured", None, period.months, lambda m: None if m == ALL else count(m), _never))
        tables.append(Table(name=interval, unit="days", description=f"Days from referral {interval.replace('_', ' ')}"
                            " (p50 and p90 of the referrals of each month that reached it)", series=series))
    return tables
