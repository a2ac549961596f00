"""Indicator routes: a county's own, or (in the national tenant) every sharing county's, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from harambee_common.agreements import AggregatesRead
from harambee_common.db import UnitOfWorkDep
from harambee_common.problems import NotFound
from harambee_common.tenancy import tenant_router
from harambee_monitoring.disclosure.release import Reader, publish
from harambee_monitoring.indicators import service
from harambee_monitoring.indicators.csv_form import CSV_RESPONSE, render
from harambee_monitoring.indicators.schemas import CountyTable, DisparityView, IndicatorView, Overview, Protection
from harambee_monitoring.national import service as national
from harambee_monitoring.population import service as population

router = tenant_router(tags=["indicators"])

Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (inclusive)")]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "No agreement in force permits the read, or the privacy budget is spent (problem)"},
    404: {"description": "No such tenant for the caller, or no such indicator (problem)"},
    422: {"description": "Months out of range (problem)"},
}


def _reader(principal) -> Reader:  # type: ignore[no-untyped-def]
    return Reader(actor=principal.actor, agreement=principal.agreement, recipient=principal.home_tenant)


@router.get("/indicators", response_model=Overview, responses=ERRORS)
def overview(principal: AggregatesRead, uow: UnitOfWorkDep, start: Annotated[Month, Query(alias="from")] = None,
             end: Annotated[Month, Query(alias="to")] = None) -> Overview:
    """The indicators this tenant can read, with the disparity flags first: groups referred at the threshold
    times their population share or more."""
    period = service.Period.of(start, end)
    view = _disparity(uow=uow, principal=principal, period=period)
    return Overview(tenant=uow.tenant, months=period.months, disparity_flags=view.flagged,
                    indicators=[*service.INDICATORS, "disparity", *(["counties"] if national.is_national(principal)
                                                                    else [])])


@router.get("/indicators/disparity", response_model=DisparityView, responses={**CSV_RESPONSE, **ERRORS})
async def disparity(request: Request, principal: AggregatesRead, uow: UnitOfWorkDep,
                    start: Annotated[Month, Query(alias="from")] = None,
                    end: Annotated[Month, Query(alias="to")] = None) -> DisparityView | Response:
    """Referral and adoption rates per group (age band and gender, age band, gender), overall and per source type,
    against the tenant's population figures: a ratio per group, flagged at the tenant's threshold (2 by default)."""
    period = service.Period.of(start, end)
    view = await run_in_threadpool(_disparity, uow=uow, principal=principal, period=period)
    return render(request, view)  # type: ignore[return-value]


def _disparity(*, uow, principal, period: service.Period) -> DisparityView:  # type: ignore[no-untyped-def]
    if national.is_national(principal):
        return national.national_disparity(uow=uow, principal=principal, period=period)
    reader = _reader(principal)
    if reader.agreement is None:
        return population.county_disparity(uow=uow, period=period.window, months=period.months, published=None,
                                           protection=Protection(kind="none"))
    published = publish(uow=uow, grid=service.referral_grid(uow=uow, period=period), partitions=("age_band", "gender"),
                        reader=reader, indicator="disparity")
    national.record_release(uow=uow, principal=principal, indicator="disparity", period=period,
                            protection=published.protection, recipient=principal.home_tenant)
    return population.county_disparity(uow=uow, period=period.window, months=period.months, published=published,
                                       protection=published.protection)


@router.get("/indicators/counties", response_model=CountyTable, responses={**CSV_RESPONSE, **ERRORS})
async def counties(request: Request, principal: AggregatesRead, uow: UnitOfWorkDep,
                   start: Annotated[Month, Query(alias="from")] = None,
                   end: Annotated[Month, Query(alias="to")] = None) -> CountyTable | Response:
    """National tenant only: each sharing county's headline funnel over the period, side by side."""
    if not national.is_national(principal):
        raise NotFound("The county table is the national programme's.")
    period = service.Period.of(start, end)
    view = await run_in_threadpool(national.county_table, uow=uow, principal=principal, period=period)
    return render(request, view)  # type: ignore[return-value]


# The names as an enum in the document: `disparity` and `counties` are other routes, with other answers.
IndicatorName = Literal[service.INDICATORS]  # type: ignore[valid-type]


@router.get("/indicators/{indicator}", response_model=IndicatorView, responses={**CSV_RESPONSE, **ERRORS})
async def indicator(request: Request, principal: AggregatesRead, uow: UnitOfWorkDep,
                    indicator: Annotated[IndicatorName, Path(description="The indicator (disparity and the county "
                                                                          "table have routes of their own).")],
                    start: Annotated[Month, Query(alias="from")] = None,
                    end: Annotated[Month, Query(alias="to")] = None) -> IndicatorView | Response:
    """One indicator by month, as series a chart draws directly (or CSV): exact for the county's staff;
    suppressed or noisy for the national programme, and in the national tenant summed over its counties."""
    period = service.Period.of(start, end)
    view = await run_in_threadpool(_indicator, uow=uow, principal=principal, period=period, indicator=indicator)
    return render(request, view)  # type: ignore[return-value]


def _indicator(*, uow, principal, period: service.Period, indicator: str) -> IndicatorView:  # type: ignore[no-untyped-def]
    if national.is_national(principal):
        return national.national_indicator(uow=uow, principal=principal, period=period, indicator=indicator)
    view = service.county_indicator(uow=uow, period=period, indicator=indicator, reader=_reader(principal))
    if principal.agreement is not None:
        national.record_release(uow=uow, principal=principal, indicator=indicator, period=period,
                                protection=view.protection, recipient=principal.home_tenant)
    return view
