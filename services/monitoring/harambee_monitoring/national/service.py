"""National oversight: the same indicators across every county whose agreement in force grants them.

For each county that has an agreement naming the national tenant, the agreement is decided in the
county's own transaction scope (in_tenant) and the decision, granted or refused, goes to the county's log
with the agreement's id and version; a granted county's figures are released as any outside reader gets
them (suppressed, or noisy in the differential-privacy mode, which spends from that county's budget), and
the release itself is recorded there too (`indicators.released`). National figures are sums of what the
counties released: a county's withheld cell is left out, and the sum is marked partial, never completed
from the county's exact figure. No row and no reference ever leaves a county.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from harambee_common.agreements import READ_AGGREGATES, Party, decide, recorded_decision
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.monitoring import IndicatorsReleased
from harambee_common.db import UnitOfWork, in_tenant
from harambee_common.permissions import Role
from harambee_monitoring.disclosure.release import Number, Published, Reader, publish
from harambee_monitoring.events import EVENTS
from harambee_monitoring.indicators import service as indicators
from harambee_monitoring.indicators.grid import ALL, Cell
from harambee_monitoring.indicators.schemas import (
    CountyRow,
    CountyTable,
    DisparityView,
    IndicatorView,
    Protection,
)
from harambee_monitoring.national import repository
from harambee_monitoring.population import repository as population_repository
from harambee_monitoring.population import service as population

HEADLINE = ("referred", "screened", "accepted", "assessed", "decided", "adopted", "consented", "first_session",
            "closed")


def is_national(principal: TenantPrincipal) -> bool:
    """Whether the principal reads as the national programme: a national coordinator in its own tenant."""
    return principal.home_tenant is None and Role.national_coordinator in principal.roles


@dataclass(frozen=True)
class CountyRelease:
    """One county's release to the national programme."""

    county: str
    published: Published
    uow: UnitOfWork


def releases(*, uow: UnitOfWork, principal: TenantPrincipal, period: indicators.Period, indicator: str,
             partitions: tuple[str, ...], excluded: list[str]) -> Iterator[CountyRelease]:
    """Each county's release under its agreement in force; counties without one are added to `excluded`."""
    party = Party("tenant", principal.tenant)
    today = datetime.now(UTC).date()
    for county in repository.tenants_sharing_with(session=uow.session, party=principal.tenant):
        if county == principal.tenant:
            continue
        with in_tenant(uow, county) as step:
            decision = decide(session=step.session, party=party, operation=READ_AGGREGATES, on=today)
            step.publish(recorded_decision(decision=decision, tenant=county, actor=principal.actor,
                                           client_id=principal.principal.client_id, source=EVENTS))
            if not decision.granted or decision.agreement is None:
                excluded.append(county)
                continue
            reader = Reader(actor=principal.actor, agreement=decision.agreement, recipient=principal.tenant)
            grid = indicators.grid_for(uow=step, period=period, indicator=indicator)
            published = publish(uow=step, grid=grid, partitions=partitions, reader=reader, indicator=indicator)
            record_release(uow=step, principal=principal, indicator=indicator, period=period,
                           protection=published.protection, recipient=principal.tenant)
            yield CountyRelease(county=county, published=published, uow=step)


def record_release(*, uow: UnitOfWork, principal: TenantPrincipal, indicator: str, period: indicators.Period,
                   protection: Protection, recipient: str) -> None:
    """Records a release to another tenant in the county's log, with its agreement and protection."""
    if protection.agreement_id is None:
        return
    EVENTS.publish(uow, IndicatorsReleased(
        indicator=indicator, recipient=recipient, actor=principal.actor, agreement_id=protection.agreement_id,
        agreement_version=protection.agreement_version or 0, months=period.months, protection=protection.kind,
        suppression_threshold=protection.suppression_threshold, cells_withheld=protection.cells_withheld,
        epsilon=protection.epsilon, budget_period=protection.budget_period,
    ), subject=protection.agreement_id)


def combine(counties: list[CountyRelease]) -> Published:
    """The national sums of the counties' released values. A cell no county released is withheld; one that some
    county withheld is the sum of the others', marked partial (a lower bound, never completed from exact data)."""
    values: dict[Cell, Number | None] = {}
    partial: set[Cell] = set()
    for release in counties:
        for cell, value in release.published.values.items():
            if value is None:
                partial.add(cell)
                values.setdefault(cell, None)
            else:
                values[cell] = (values.get(cell) or 0) + value
    partial = {cell for cell in partial if values[cell] is not None}
    return Published(values=values, protection=national_protection([c.published.protection for c in counties]),
                     partial=partial)


def national_protection(protections: list[Protection]) -> Protection:
    """How the national sums were protected: each county's way, stated."""
    kinds = {p.kind for p in protections}
    noisy = "differential_privacy" in kinds
    scales = sorted({p.noise_scale for p in protections if p.noise_scale is not None})
    return Protection(
        kind="differential_privacy" if kinds == {"differential_privacy"} else "suppression",
        noisy=noisy, cells_withheld=sum(p.cells_withheld for p in protections),
        mechanism="discrete_laplace" if noisy else None,
        noise_scale=scales[-1] if scales else None,
        note=f"Sums over {len(protections)} counties of what each released under its agreement "
             f"({', '.join(sorted(kinds)) or 'none'}); a sum missing a county's withheld value is listed as partial."
             + (f" Noise scales per county: {', '.join(f'{s:g}' for s in scales)}." if scales else ""),
    )


def national_indicator(*, uow: UnitOfWork, principal: TenantPrincipal, period: indicators.Period,
                       indicator: str) -> IndicatorView:
    """An indicator summed over the counties that share it with the national tenant."""
    excluded: list[str] = []
    counties, own = [], []
    for release in releases(uow=uow, principal=principal, period=period, indicator=indicator,
                            partitions=indicators.PARTITIONS[indicator], excluded=excluded):
        counties.append(release)
        if indicator == "timeliness":  # each county's own percentiles, read while in its scope (they do not add up)
            own += [table.model_copy(update={"name": f"{release.county}:{table.name}"}) for table in
                    indicators.protected_timeliness(uow=release.uow, period=period,
                                                    protection=release.published.protection)]
    combined = combine(counties)
    tables = indicators.build(indicator, published=combined, months=period.months) + own
    return IndicatorView(tenant=uow.tenant, indicator=indicator, months=period.months, protection=combined.protection,
                         counties=[c.county for c in counties], counties_excluded=excluded, tables=tables)


def county_table(*, uow: UnitOfWork, principal: TenantPrincipal, period: indicators.Period) -> CountyTable:
    """Each county's headline funnel over the period, side by side, from the same release as the funnel."""
    excluded: list[str] = []
    rows = []
    for release in releases(uow=uow, principal=principal, period=period, indicator="counties",
                            partitions=("stage",), excluded=excluded):
        figures: dict[str, Number | None] = {s: indicators.step(release.published, s, ALL) for s in HEADLINE}
        completed = indicators._sum(release.published, "stage", ALL, indicators.COMPLETED)
        figures["completed"] = completed
        rows.append(CountyRow(county=release.county, figures=figures, protection=release.published.protection))
    return CountyTable(tenant=uow.tenant, months=period.months, columns=[*HEADLINE, "completed"], counties=rows,
                       counties_excluded=excluded)


def national_disparity(*, uow: UnitOfWork, principal: TenantPrincipal, period: indicators.Period) -> DisparityView:
    """Referrals per age band and gender, summed over the counties, against their summed population figures."""
    excluded: list[str] = []
    people: dict[tuple[str, str], int] = {}
    counties = []
    for release in releases(uow=uow, principal=principal, period=period, indicator="disparity",
                            partitions=("age_band", "gender"), excluded=excluded):
        counties.append(release)
        for key, n in population.population(uow=release.uow).items():
            if key[0] != "age_band_gender":
                people[key] = people.get(key, 0) + n
    combined = combine(counties)
    threshold = float(population_repository.threshold(session=uow.session))
    groups = population.groups_against_population(population.published_counts(combined), people, threshold=threshold)
    return DisparityView(tenant=uow.tenant, months=period.months, threshold=threshold, protection=combined.protection,
                         flagged=[g for g in groups if g.flagged], groups=groups,
                         missing_population=[d for d in ("age_band", "gender") if not any(k[0] == d for k in people)])

