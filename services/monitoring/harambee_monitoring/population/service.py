"""Disparity: who is referred, and by whom, against the population figures a tenant records.

A group's referral share over its population share is its ratio; at the tenant's threshold or more
(2 unless it sets another) the group is flagged: the guard against discriminatory over-referral. The
shares are taken over the groups with population figures (people of unknown age or gender are left out),
per source type as well as overall, and each group's adoption rate stands beside its referral rate.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork
from harambee_common.problems import NotFound, ValidationFailed
from harambee_monitoring.disclosure.release import Published
from harambee_monitoring.indicators import repository as indicators
from harambee_monitoring.indicators.grid import ALL, CATEGORIES
from harambee_monitoring.indicators.schemas import DisparityGroup, DisparityView, PopulationView, Protection
from harambee_monitoring.population import repository

DIMENSIONS = ("age_band_gender", "age_band", "gender")
# Counts of one group: (dimension, group, source type or None) -> (referrals, adopted or None).
Counts = dict[tuple[str, str, str | None], tuple[int | None, int | None]]


def record_figures(*, uow: UnitOfWork, principal: TenantPrincipal, dimension: str, groups: dict[str, int],
                   source: str) -> PopulationView:
    """Replaces a dimension's population figures."""
    _check(dimension, groups)
    repository.replace_figures(session=uow.session, tenant=uow.tenant, dimension=dimension, groups=groups,
                               source=source, actor=principal.actor, at=datetime.now(UTC))
    return PopulationView(dimension=dimension, source=source, groups=groups)


def read_figures(*, uow: UnitOfWork, dimension: str) -> PopulationView:
    """A dimension's population figures."""
    rows = repository.figures(session=uow.session, dimension=dimension)
    if not rows:
        raise NotFound(f"No population figures for {dimension!r}.")
    return PopulationView(dimension=dimension, source=rows[0].source, groups={r.group_key: r.population for r in rows})


def _check(dimension: str, groups: dict[str, int]) -> None:
    if dimension not in DIMENSIONS:
        raise NotFound(f"No dimension {dimension!r}; the dimensions are: {', '.join(DIMENSIONS)}.")
    known = {"age_band": CATEGORIES["age_band"], "gender": CATEGORIES["gender"]}
    errors = []
    for key, population in groups.items():
        parts = key.split(":")
        axes = ["age_band", "gender"] if dimension == "age_band_gender" else [dimension]
        if len(parts) != len(axes) or any(p not in known[a] for p, a in zip(parts, axes, strict=False)):
            errors.append({"location": ["body", "groups", key], "type": "unknown_group",
                           "message": f"not a group of {dimension} (e.g. {':'.join(known[a][2] for a in axes)})"})
        if population < 0:
            errors.append({"location": ["body", "groups", key], "type": "negative", "message": "below zero"})
    if errors:
        raise ValidationFailed("Some groups are not valid.", errors=errors)


def county_counts(*, uow: UnitOfWork, window: indicators.Window) -> Counts:
    """Exact referrals and adoptions per group of each dimension, overall and per source type."""
    counts: dict[tuple[str, str, str | None], list[int]] = defaultdict(lambda: [0, 0])
    for age, gender, source, n, adopted in indicators.groups(session=uow.session, window=window):
        for dimension, group in (("age_band_gender", f"{age}:{gender}"), ("age_band", age), ("gender", gender)):
            for by_source in (None, source):
                cell = counts[(dimension, group, by_source)]
                cell[0] += n
                cell[1] += adopted
    return {k: (v[0], v[1]) for k, v in counts.items()}


def published_counts(published: Published) -> Counts:
    """Referrals per age band and per gender as another tenant may see them (no sources, no adoptions)."""
    return {(p, k, None): (v, None) for (p, m, k), v in published.values.items()
            if m == ALL and p in ("age_band", "gender") and k != "total"}


def population(*, uow: UnitOfWork) -> dict[tuple[str, str], int]:
    """The tenant's population figures by (dimension, group)."""
    return {(r.dimension, r.group_key): r.population for r in repository.figures(session=uow.session)}


def groups_against_population(counts: Counts, people: dict[tuple[str, str], int], *,
                              threshold: float) -> list[DisparityGroup]:
    """Each group's shares, ratio, rates and flag, for every dimension with figures, overall then by source."""
    result = []
    sources = sorted({s for (_, _, s) in counts if s is not None})
    for dimension in DIMENSIONS:
        figures = {g: n for (d, g), n in people.items() if d == dimension}
        total_people = sum(figures.values())
        if not total_people:
            continue
        for source in (None, *sources):
            referred = {g: counts.get((dimension, g, source), (0, 0)) for g in figures}
            known = [n for n, _ in referred.values()]
            total = None if any(n is None for n in known) else sum(known)
            for group, people_in_group in figures.items():
                n, adopted = referred[group]
                pop_share = people_in_group / total_people if total_people else None
                ref_share = n / total if n is not None and total else None
                ratio = round(ref_share / pop_share, 3) if ref_share is not None and pop_share else None
                result.append(DisparityGroup(
                    dimension=dimension, group=group, source_type=source, population=people_in_group,
                    population_share=round(pop_share, 4) if pop_share is not None else None,
                    referrals=n, referral_share=round(ref_share, 4) if ref_share is not None else None, ratio=ratio,
                    referrals_per_10000=round(n * 10000 / people_in_group, 2) if n is not None and people_in_group
                    else None,
                    adopted=adopted, adoption_rate=round(adopted / n, 4) if adopted is not None and n else None,
                    flagged=ratio is not None and ratio >= threshold,
                ))
    return result


def county_disparity(*, uow: UnitOfWork, period: indicators.Window, months: list[str], published: Published | None,
                     protection: Protection) -> DisparityView:
    """The county's disparity view: exact for its staff (every dimension, per source, adoption), or from the
    released age band and gender counts for another tenant."""
    counts = county_counts(uow=uow, window=period) if published is None else published_counts(published)
    people = population(uow=uow)
    if published is not None:
        people = {k: v for k, v in people.items() if k[0] != "age_band_gender"}
    threshold = float(repository.threshold(session=uow.session))
    groups = groups_against_population(counts, people, threshold=threshold)
    dimensions = DIMENSIONS if published is None else ("age_band", "gender")
    return DisparityView(tenant=uow.tenant, months=months, threshold=threshold, protection=protection,
                         flagged=[g for g in groups if g.flagged], groups=groups,
                         missing_population=[d for d in dimensions if not any(k[0] == d for k in people)])
