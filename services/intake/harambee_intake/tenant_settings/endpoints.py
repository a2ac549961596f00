"""Tenant settings' routes."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from harambee_common.db import UnitOfWorkDep
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, StaffRead
from harambee_intake.dependencies import IfMatch
from harambee_intake.preconditions import etag
from harambee_intake.tenant_settings import service
from harambee_intake.tenant_settings.schemas import SettingView
from harambee_intake.tenant_settings.service import Setting

router = tenant_router(tags=["settings"])


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
    """Replaces one of the tenant's settings (e.g. `escalation_contact`)."""
    return _answer(service.put(uow=uow, principal=principal, name=name, value=body, if_match=if_match), response)


def _answer(setting: Setting, response: Response) -> SettingView:
    response.headers["ETag"] = etag(setting.version)
    return SettingView(name=setting.name, value=setting.value, version=setting.version)
