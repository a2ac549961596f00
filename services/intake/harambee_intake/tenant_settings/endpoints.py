"""Tenant settings' routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Response

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, SettingsHistoryRead, StaffRead
from harambee_intake.dependencies import IfMatch
from harambee_intake.preconditions import etag
from harambee_intake.tenant_settings import history, service
from harambee_intake.tenant_settings.schemas import SettingChangePage, SettingChangeView, SettingView
from harambee_intake.tenant_settings.service import Setting

router = tenant_router(tags=["settings"])


# Declared before /settings/{name}, which would otherwise take "history" for a setting's name.
@router.get("/settings/history", response_model=SettingChangePage)
def list_setting_changes(
    _principal: SettingsHistoryRead, uow: UnitOfWorkDep,
    kind: Literal["setting", "vocabulary"] | None = None,
    name: Annotated[str | None, Query(max_length=100, description="One setting or list")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> SettingChangePage:
    """Every change to the tenant's settings and coded lists, newest first, with the value each replaced."""
    page = history.changes(uow=uow, kind=kind, name=name, cursor=cursor, limit=limit)
    return SettingChangePage(items=[SettingChangeView.model_validate(c, from_attributes=True) for c in page.rows],
                             next_cursor=page.next_cursor)


@router.get("/settings/{name}", response_model=SettingView)
def get_setting(
    name: str, _principal: StaffRead, uow: UnitOfWorkDep, response: Response
) -> SettingView:
    """One of the tenant's settings; its ETag is what a change must send as If-Match."""
    return _answer(service.get(uow=uow, name=name), response)


@router.put("/settings/{name}", response_model=SettingView)
def put_setting(
    name: str, body: dict[str, Any], principal: IntakeOfficer, uow: UnitOfWorkDep,
    response: Response, if_match: IfMatch = None,
) -> SettingView:
    """Replaces one of the tenant's settings (e.g. `escalation_contact`); the change is kept (`/settings/history`)
    and published as `tenant_setting.changed`."""
    return _answer(service.put(uow=uow, principal=principal, name=name, value=body, if_match=if_match), response)


def _answer(setting: Setting, response: Response) -> SettingView:
    response.headers["ETag"] = etag(setting.version)
    return SettingView(name=setting.name, value=setting.value, version=setting.version)
