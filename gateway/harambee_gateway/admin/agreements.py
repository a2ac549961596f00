"""Data-sharing agreements: drafted, activated, suspended, terminated; every change a new version."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from harambee_common.pagination import Cursor, Limit, Page
from harambee_gateway import agreements
from harambee_gateway.auth import PlatformAdmin
from harambee_gateway.schemas import AgreementChange, AgreementCreate, AgreementStatus, AgreementView
from harambee_gateway.unit_of_work import RegistryUnitOfWorkDep

router = APIRouter()

# The list's filter on status, named `status` in the query.
StatusFilter = Annotated[AgreementStatus | None, Query(alias="status")]


@router.post("/agreements", status_code=status.HTTP_201_CREATED)
def create_agreement(body: AgreementCreate, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> AgreementView:
    """Records a data-sharing agreement as a draft: it permits nothing until activated."""
    return agreements.create_agreement(uow=uow, data=body, actor=admin.subject)


@router.get("/agreements")
def list_agreements(
    uow: RegistryUnitOfWorkDep,
    party: str | None = None,
    agreement_status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AgreementView]:
    """Lists agreements in their current version; `party` is a slug, `tenant:slug` or `organisation:slug`."""
    found = agreements.list_agreements(uow=uow, party=party, status=agreement_status, cursor=cursor, limit=limit)
    return Page[AgreementView](items=found.rows, next_cursor=found.next_cursor)


@router.get("/agreements/{agreement_id}")
def get_agreement(agreement_id: uuid.UUID, uow: RegistryUnitOfWorkDep) -> AgreementView:
    """Gets an agreement in its current version."""
    return agreements.get_agreement(uow=uow, agreement_id=agreement_id)


@router.get("/agreements/{agreement_id}/versions")
def list_agreement_versions(agreement_id: uuid.UUID, uow: RegistryUnitOfWorkDep) -> list[AgreementView]:
    """Every version of an agreement, oldest first: the record of what was agreed when."""
    return agreements.list_versions(uow=uow, agreement_id=agreement_id)


@router.post("/agreements/{agreement_id}/activate")
def activate_agreement(agreement_id: uuid.UUID, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep) -> AgreementView:
    """Activates a draft, or reinstates a suspended agreement."""
    return agreements.change_status(uow=uow, agreement_id=agreement_id, status="active", actor=admin.subject,
                                    reason=None)


@router.post("/agreements/{agreement_id}/suspend")
def suspend_agreement(
    agreement_id: uuid.UUID, body: AgreementChange, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> AgreementView:
    """Suspends an active agreement: the flows it covers stop until it is reinstated."""
    return agreements.change_status(uow=uow, agreement_id=agreement_id, status="suspended", actor=admin.subject,
                                    reason=body.reason)


@router.post("/agreements/{agreement_id}/terminate")
def terminate_agreement(
    agreement_id: uuid.UUID, body: AgreementChange, admin: PlatformAdmin, uow: RegistryUnitOfWorkDep
) -> AgreementView:
    """Terminates an agreement for good."""
    return agreements.change_status(uow=uow, agreement_id=agreement_id, status="terminated", actor=admin.subject,
                                    reason=body.reason)
