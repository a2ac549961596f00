"""The person's rights' routes: tracked requests, access, rectification and erasure."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from fastapi import Request, Response, status

from harambee_common.auth import TenantPrincipal
from harambee_common.db import UnitOfWork, UnitOfWorkDep
from harambee_common.openapi_contract import responses_for
from harambee_common.pagination import Cursor, Limit
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, RightsRead
from harambee_intake.dependencies import ConfigDep, IfMatch, VaultDep
from harambee_intake.events import EVENTS
from harambee_intake.models import RightsRequest
from harambee_intake.preconditions import etag
from harambee_intake.problems import InvalidState
from harambee_intake.rights import service
from harambee_intake.rights.schemas import (
    AccessFulfilment,
    AccessRelease,
    ClosureIn,
    ErasureIn,
    ErasureView,
    RectificationIn,
    RectificationView,
    RightsRequestIn,
    RightsRequestPage,
    RightsRequestView,
)

router = tenant_router(tags=["rights"])


@router.post("/subjects/{subject_ref}/rights-requests", status_code=status.HTTP_201_CREATED,
             response_model=RightsRequestView)
def open_rights_request(
    subject_ref: uuid.UUID, body: RightsRequestIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    vault: VaultDep, response: Response,
) -> RightsRequestView:
    """Records a request by (or for) the person, with its statutory due date."""
    opened = service.open_request(uow=uow, vault=vault, principal=principal, subject_id=subject_ref,
                                  request_in=body)
    response.headers["Location"] = f"/v1/tenants/{uow.tenant}/rights-requests/{opened.id}"
    return _view(opened)


@router.get("/rights-requests", response_model=RightsRequestPage)
def list_rights_requests(
    principal: RightsRead, uow: UnitOfWorkDep,
    status: Literal["open", "fulfilled", "refused"] | None = None, overdue: bool = False,
    limit: Limit = 50, cursor: Cursor = None,
) -> RightsRequestPage:
    """Rights requests, soonest due first; `overdue=true` lists the open ones past their due date."""
    page = service.list_requests(uow=uow, status=status, overdue=overdue, cursor=cursor, limit=limit)
    for found in page.rows:
        _record_read(uow, principal, found)
    return RightsRequestPage(items=[_view(r) for r in page.rows], next_cursor=page.next_cursor)


@router.get("/rights-requests/{request_id}", response_model=RightsRequestView)
def get_rights_request(
    request_id: uuid.UUID, principal: RightsRead, uow: UnitOfWorkDep
) -> RightsRequestView:
    """One rights request."""
    found = service.get_request(uow=uow, request_id=request_id)
    _record_read(uow, principal, found)
    return _view(found)


@router.post("/rights-requests/{request_id}/fulfilment", response_model=AccessFulfilment,
             responses=responses_for(InvalidState))
def fulfil_access_request(
    request_id: uuid.UUID, principal: IntakeOfficer, uow: UnitOfWorkDep, vault: VaultDep,
    config: ConfigDep, request: Request, body: AccessRelease | None = None,
) -> AccessFulfilment:
    """Gathers everything held about the person, from intake and the other services, as one document.

    The request is fulfilled when every part is in; otherwise `gaps` says what is missing and why.
    What is about the referrer or other people is withheld (listed in the document's `withheld`, by
    reference and field name) unless the body releases it, field by field, with a reason; the export's
    record and `rights_request.processed` keep what was released and withheld.
    """
    fulfilled, document = service.fulfil_access(
        uow=uow, vault=vault, principal=principal, request_id=request_id,
        authorization=request.headers.get("authorization"), sources=config.export_sources, release=body)
    return AccessFulfilment(request=_view(fulfilled), complete=fulfilled.status == "fulfilled", document=document)


@router.post("/rights-requests/{request_id}/closure", response_model=RightsRequestView,
             responses=responses_for(InvalidState))
def close_rights_request(
    request_id: uuid.UUID, body: ClosureIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    vault: VaultDep,
) -> RightsRequestView:
    """Closes a request by hand: refused (with the reason), or fulfilled outside the system."""
    return _view(service.close_request(uow=uow, vault=vault, principal=principal, request_id=request_id,
                                       outcome=body.outcome, reason=body.reason))


@router.patch("/subjects/{subject_ref}/identity", response_model=RectificationView,
              responses=responses_for(InvalidState))
def rectify_identity(
    subject_ref: uuid.UUID, body: RectificationIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    vault: VaultDep, response: Response, if_match: IfMatch = None,
) -> RectificationView:
    """Corrects identifying data (the subject's ETag as If-Match); audited, values never echoed."""
    subject, changed = service.rectify(uow=uow, vault=vault, principal=principal, subject_id=subject_ref,
                                       change=body, if_match=if_match)
    response.headers["ETag"] = etag(subject.version)
    return RectificationView(subject_ref=subject.id, version=subject.version, changed=changed)


@router.post("/subjects/{subject_ref}/erasure", response_model=ErasureView, responses=responses_for(InvalidState))
def erase_subject(
    subject_ref: uuid.UUID, body: ErasureIn, principal: IntakeOfficer, uow: UnitOfWorkDep
) -> ErasureView:
    """Erases the person by destroying their data key; every service is told through `subject.erased`."""
    erasure = service.erase(uow=uow, principal=principal, subject_id=subject_ref, reason=body.reason,
                            rights_request_id=body.rights_request_id)
    return ErasureView(subject_ref=erasure.subject_ref, erased_subjects=erasure.erased, erased_at=erasure.at,
                       cleared=erasure.cleared)


def _record_read(uow: UnitOfWork, principal: TenantPrincipal, found: RightsRequest) -> None:
    # That a person asked to see or erase their data is itself about them: the read is recorded.
    EVENTS.record_access(uow, principal=principal, subject=str(found.subject_id),
                         resource=f"rights-request/{found.id}", fields=("kind", "status", "due_at", "outcome"),
                         purpose="rights-requests")


def _view(found: RightsRequest) -> RightsRequestView:
    return RightsRequestView(
        id=found.id, subject_ref=found.subject_id, kind=found.kind, requested_by=found.requested_by,
        received_at=found.received_at, due_at=found.due_at,
        overdue=found.status == "open" and found.due_at < datetime.now(UTC), status=found.status,
        outcome=found.outcome, gaps=found.gaps or [],
        last_attempt_at=found.last_attempt_at, closed_at=found.closed_at, closed_by=found.closed_by,
        recorded_by=found.recorded_by,
    )
