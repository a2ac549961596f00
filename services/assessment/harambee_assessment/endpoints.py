"""Assessment's routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from harambee_assessment import service, transfers
from harambee_assessment.auth import AggregatesRead, CasesRead, CaseTransfers, SubjectExport
from harambee_assessment.models import Case, CaseTransfer
from harambee_assessment.schemas import (
    CaseAggregates,
    CasePage,
    CaseView,
    SubjectRecord,
    TransferAcceptance,
    TransferPage,
    TransferProposal,
    TransferRefusal,
    TransferView,
)
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit, decode_cursor, encode_cursor
from harambee_common.problems import NotFound

router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["cases"])


@router.get("/cases", response_model=CasePage)
def list_cases(
    tenant: str, principal: CasesRead, uow: UnitOfWorkDep,
    referral_id: uuid.UUID | None = None, limit: Limit = 50, cursor: str | None = None,
) -> CasePage:
    """Lists cases, newest first; `referral_id` finds the case opened for a referral."""
    after = decode_cursor(cursor) if cursor else None
    cases = service.read_cases(uow=uow, principal=principal, referral_id=referral_id,
                               after=after, limit=limit)
    last = cases[-1] if len(cases) == limit else None
    return CasePage(
        items=[_view(c) for c in cases],
        next_cursor=encode_cursor(last.opened_at, str(last.id)) if last else None,
    )


@router.get("/aggregates/cases", response_model=CaseAggregates)
def case_aggregates(tenant: str, principal: AggregatesRead, uow: UnitOfWorkDep) -> CaseAggregates:
    """Counts of the tenant's cases, for programme managers and (under agreement) national coordinators."""
    return service.case_aggregates(uow=uow, principal=principal)


@router.get("/subjects/{subject_ref}/export", response_model=SubjectRecord, tags=["rights"])
def export_subject(
    tenant: str, subject_ref: uuid.UUID, principal: SubjectExport, uow: UnitOfWorkDep
) -> SubjectRecord:
    """Everything assessment holds about one person (intake gathers it for an access request)."""
    cases = service.export_subject(uow=uow, principal=principal, subject_ref=subject_ref)
    return SubjectRecord(service="assessment", subject_ref=subject_ref, cases=[_view(c) for c in cases])


@router.get("/cases/{case_id}", response_model=CaseView)
def get_case(tenant: str, case_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep) -> CaseView:
    """Gets one case."""
    case = service.read_case(uow=uow, principal=principal, case_id=case_id)
    if case is None:
        raise NotFound("No such case.")
    return _view(case)


@router.post("/cases/{case_id}/transfers", response_model=TransferView, status_code=status.HTTP_201_CREATED,
             tags=["transfers"])
def propose_transfer(
    tenant: str, case_id: uuid.UUID, body: TransferProposal, principal: CaseTransfers, uow: UnitOfWorkDep
) -> TransferView:
    """Proposes that another county take the case over (a person moves); needs an agreement with that county."""
    transfer = transfers.propose_transfer(uow=uow, principal=principal, case_id=case_id, to=body.to,
                                          reason=body.reason, note=body.note)
    return _transfer_view(transfer)


@router.get("/transfers", response_model=TransferPage, tags=["transfers"])
def list_transfers(
    tenant: str, principal: CaseTransfers, uow: UnitOfWorkDep,
    direction: Literal["incoming", "outgoing"] | None = None,
    transfer_status: Annotated[Literal["proposed", "accepted", "refused"] | None, Query(alias="status")] = None,
    limit: Limit = 50, cursor: str | None = None,
) -> TransferPage:
    """Lists this county's transfers, newest first; `direction=incoming&status=proposed` is its inbox."""
    after = decode_cursor(cursor) if cursor else None
    found = transfers.read_transfers(uow=uow, principal=principal, direction=direction, status=transfer_status,
                                     after=after, limit=limit)
    last = found[-1] if len(found) == limit else None
    return TransferPage(
        items=[_transfer_view(t) for t in found],
        next_cursor=encode_cursor(last.proposed_at, str(last.id)) if last else None,
    )


@router.get("/transfers/{transfer_id}", response_model=TransferView, tags=["transfers"])
def get_transfer(tenant: str, transfer_id: uuid.UUID, principal: CaseTransfers, uow: UnitOfWorkDep) -> TransferView:
    """Gets this county's side of one transfer."""
    transfer = transfers.read_transfer(uow=uow, principal=principal, transfer_id=transfer_id)
    if transfer is None:
        raise NotFound("No such transfer.")
    return _transfer_view(transfer)


@router.post("/transfers/{transfer_id}/accept", response_model=TransferView, tags=["transfers"])
def accept_transfer(
    tenant: str, transfer_id: uuid.UUID, principal: CaseTransfers, uow: UnitOfWorkDep,
    body: TransferAcceptance | None = None,
) -> TransferView:
    """Takes an incoming case over: a new case opens here (`received_case_id`); the sender's is closed."""
    transfer = transfers.accept_transfer(uow=uow, principal=principal, transfer_id=transfer_id,
                                         note=body.note if body else None)
    return _transfer_view(transfer)


@router.post("/transfers/{transfer_id}/refuse", response_model=TransferView, tags=["transfers"])
def refuse_transfer(
    tenant: str, transfer_id: uuid.UUID, body: TransferRefusal, principal: CaseTransfers, uow: UnitOfWorkDep
) -> TransferView:
    """Declines an incoming case, with a reason; the sending county's case stays open."""
    transfer = transfers.refuse_transfer(uow=uow, principal=principal, transfer_id=transfer_id,
                                         reason=body.reason, note=body.note)
    return _transfer_view(transfer)


def _view(case: Case) -> CaseView:
    return CaseView(id=case.id, subject_ref=case.subject_ref, referral_id=case.referral_id,
                    status=case.status, opened_at=case.opened_at, closed_at=case.closed_at,
                    transfer_id=case.transfer_id, transferred_from=case.transferred_from)


def _transfer_view(transfer: CaseTransfer) -> TransferView:
    return TransferView.model_validate(transfer, from_attributes=True)
