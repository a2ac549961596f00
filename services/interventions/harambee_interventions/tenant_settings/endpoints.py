"""The tenant's intervention-tracking settings' routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router
from harambee_interventions.auth import PlansWrite, SettingsHistoryRead, StaffRead
from harambee_interventions.dependencies import ClockDep
from harambee_interventions.tenant_settings import history, service
from harambee_interventions.tenant_settings.schemas import (
    SettingChangePage,
    SettingChangeView,
    SettingsIn,
    SettingsView,
)

router = tenant_router(tags=["settings"], responses=problem_responses(401, 403, 404, 422))


@router.get("/intervention-settings", response_model=SettingsView)
def get_settings(_principal: StaffRead, uow: UnitOfWorkDep) -> SettingsView:
    """When a task counts as stalled, how often plans are reviewed, and when follow-ups fall due."""
    return _view(service.in_force(uow=uow))


@router.put("/intervention-settings", response_model=SettingsView)
def put_settings(body: SettingsIn, principal: PlansWrite, uow: UnitOfWorkDep, clock: ClockDep) -> SettingsView:
    """Replaces the tenant's settings; the change is kept (`/settings/history`) and published."""
    return _view(service.replace(uow=uow, principal=principal, stall_days=body.stall_days,
                                 review_interval_months=body.review_interval_months,
                                 follow_up_months=body.follow_up_months, at=clock.now()))


@router.get("/settings/history", response_model=SettingChangePage)
def list_setting_changes(
    _principal: SettingsHistoryRead, uow: UnitOfWorkDep, kind: history.Kind | None = None,
    name: Annotated[str | None, Query(max_length=100, description="`intervention-settings` or a type's code")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> SettingChangePage:
    """Every change to the tenant's settings and intervention catalogue, newest first, with the value each replaced."""
    page = history.changes(uow=uow, kind=kind, name=name, cursor=cursor, limit=limit)
    return SettingChangePage(items=[SettingChangeView.model_validate(c) for c in page.rows],
                             next_cursor=page.next_cursor)


def _view(settings: service.Settings) -> SettingsView:
    return SettingsView(stall_days=settings.stall_days, review_interval_months=settings.review_interval_months,
                        follow_up_months=list(settings.follow_up_months), updated_at=settings.updated_at)
