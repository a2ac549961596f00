"""Assessment's routes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Query, status

from harambee_assessment import service, settings, sharing, transfers
from harambee_assessment.auth import (
    NOT_FOUND,
    CaseManagement,
    CasesRead,
    CaseSummaryRead,
    CaseTransfers,
    ProgrammeRead,
    ProgrammeWrite,
    SettingsHistoryRead,
    SubjectExport,
)
from harambee_assessment.dependencies import NowDep
from harambee_assessment.reassessments import service as reassessments
from harambee_assessment.schemas import (
    Assignment,
    AssignmentList,
    CaseAggregates,
    CasePage,
    CaseSummary,
    CaseView,
    DueReassessment,
    DueReassessmentPage,
    SubjectRecord,
    TransferAcceptance,
    TransferPage,
    TransferProposal,
    TransferRefusal,
    TransferView,
)
from harambee_common.agreements import AggregatesRead
from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit
from harambee_common.problems import problem_responses
from harambee_common.tenancy import tenant_router

router = tenant_router(tags=["cases"], responses=problem_responses(401, 403, 404, 422, meanings=NOT_FOUND))


@router.get("/cases", response_model=CasePage)
def list_cases(
    principal: CasesRead, uow: UnitOfWorkDep,
    referral_id: uuid.UUID | None = None, limit: Limit = 50, cursor: Cursor = None,
) -> CasePage:
    """Lists cases, newest first; `referral_id` finds the case opened for a referral."""
    page = service.read_cases(uow=uow, principal=principal, referral_id=referral_id, cursor=cursor, limit=limit)
    return CasePage(items=[CaseView.model_validate(c) for c in page.rows], next_cursor=page.next_cursor)


@router.get("/aggregates/cases", response_model=CaseAggregates)
def case_aggregates(principal: AggregatesRead, uow: UnitOfWorkDep) -> CaseAggregates:
    """Counts of the tenant's cases, for programme managers and (under agreement) national coordinators."""
    return service.case_aggregates(uow=uow, principal=principal)


@router.get("/subjects/{subject_ref}/export", response_model=SubjectRecord, tags=["rights"])
def export_subject(
    subject_ref: uuid.UUID, principal: SubjectExport, uow: UnitOfWorkDep
) -> SubjectRecord:
    """Everything assessment holds about one person (intake gathers it for an access request)."""
    return service.export_subject(uow=uow, principal=principal, subject_ref=subject_ref)


@router.get("/cases/{case_id}", response_model=CaseView)
def get_case(case_id: uuid.UUID, principal: CasesRead, uow: UnitOfWorkDep) -> CaseView:
    """Gets one case."""
    return CaseView.model_validate(service.read_case(uow=uow, principal=principal, case_id=case_id))


@router.post("/cases/{case_id}/transfers", response_model=TransferView, status_code=status.HTTP_201_CREATED,
             tags=["transfers"])
def propose_transfer(
    case_id: uuid.UUID, body: TransferProposal, principal: CaseTransfers, uow: UnitOfWorkDep
) -> TransferView:
    """Proposes that another county take the case over (a person moves); needs an agreement with that county."""
    transfer = transfers.propose_transfer(uow=uow, principal=principal, case_id=case_id, to=body.to,
                                          reason=body.reason, note=body.note)
    return TransferView.model_validate(transfer)


@router.get("/transfers", response_model=TransferPage, tags=["transfers"])
def list_transfers(
    principal: CaseTransfers, uow: UnitOfWorkDep,
    direction: Literal["incoming", "outgoing"] | None = None,
    transfer_status: Annotated[Literal["proposed", "accepted", "refused"] | None, Query(alias="status")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> TransferPage:
    """Lists this county's transfers, newest first; `direction=incoming&status=proposed` is its inbox."""
    page = transfers.read_transfers(uow=uow, principal=principal, direction=direction, status=transfer_status,
                                    cursor=cursor, limit=limit)
    return TransferPage(items=[TransferView.model_validate(t) for t in page.rows], next_cursor=page.next_cursor)


@router.get("/transfers/{transfer_id}", response_model=TransferView, tags=["transfers"])
def get_transfer(
    transfer_id: uuid.UUID, principal: CaseTransfers, uow: UnitOfWorkDep
) -> TransferView:
    """Gets this county's side of one transfer."""
    return TransferView.model_validate(transfers.read_transfer(uow=uow, principal=principal, transfer_id=transfer_id))


@router.post("/transfers/{transfer_id}/accept", response_model=TransferView, tags=["transfers"])
def accept_transfer(
    transfer_id: uuid.UUID, principal: CaseTransfers, uow: UnitOfWorkDep,
    body: TransferAcceptance | None = None,
) -> TransferView:
    """Takes an incoming case over: a new case opens here (`received_case_id`); the sender's is closed."""
    transfer = transfers.accept_transfer(uow=uow, principal=principal, transfer_id=transfer_id,
                                         note=body.note if body else None)
    return TransferView.model_validate(transfer)


@router.post("/transfers/{transfer_id}/refuse", response_model=TransferView, tags=["transfers"])
def refuse_transfer(
    transfer_id: uuid.UUID, body: TransferRefusal, principal: CaseTransfers, uow: UnitOfWorkDep
) -> TransferView:
    """Declines an incoming case, with a reason; the sending county's case stays open."""
    transfer = transfers.refuse_transfer(uow=uow, principal=principal, transfer_id=transfer_id,
                                         reason=body.reason, note=body.note)
    return TransferView.model_validate(transfer)


@router.post("/cases/{case_id}/assignments", response_model=AssignmentList, status_code=status.HTTP_201_CREATED,
             responses=problem_responses(409, meanings={409: "The case is no longer being worked."}))
def assign_assessor(case_id: uuid.UUID, body: Assignment, principal: CaseManagement, uow: UnitOfWorkDep,
                    now: NowDep) -> AssignmentList:
    """Assigns an assessor to the case: they read it and contribute to its assessments (and no other case)."""
    return AssignmentList(assessors=service.assign_assessor(uow=uow, principal=principal, case_id=case_id,
                                                            assessor=body.assessor, now=now))


@router.get("/cases/{case_id}/summary", response_model=CaseSummary, tags=["partners"],
            responses=problem_responses(403, meanings={403: sharing.REFUSED}))
def case_summary(case_id: uuid.UUID, principal: CaseSummaryRead, uow: UnitOfWorkDep, now: NowDep) -> CaseSummary:
    """For a partner's system, under an agreement that grants `read_case_summary`: where a case it referred, or
    was asked about, stands. Nothing of its assessments or the panel's reasons; only the fields the agreement
    names (the others null); refused (403 `consent-required`) where the agreement requires the person's consent
    naming your organisation and none is recorded."""
    return service.case_summary(uow=uow, principal=principal, case_id=case_id, now=now)


@router.get("/reassessments", response_model=DueReassessmentPage, tags=["assessments"])
def due_reassessments(principal: CasesRead, uow: UnitOfWorkDep, now: NowDep, overdue: bool = False,
                      within_days: Annotated[int, Query(ge=0, le=3650)] = 14, limit: Limit = 50,
                      cursor: Cursor = None) -> DueReassessmentPage:
    """Cases due for reassessment within `within_days` (default 14), soonest first; `overdue=true`: past due."""
    today = now.date()
    page = reassessments.due(uow=uow, principal=principal, by=today + timedelta(days=within_days),
                             overdue_on=today if overdue else None, cursor=cursor, limit=limit)
    return DueReassessmentPage(items=[DueReassessment(case_id=c.id, subject_ref=c.subject_ref, status=c.status,
                                                      due_on=c.reassessment_due_on, reason=c.reassessment_reason,
                                                      overdue=c.reassessment_due_on < today) for c in page.rows],
                               next_cursor=page.next_cursor)


@router.get("/assessment-settings", response_model=settings.SettingsView, tags=["settings"])
def get_settings(_: ProgrammeRead, uow: UnitOfWorkDep) -> settings.SettingsView:
    """The tenant's four-eyes rule for approving assessments and its panel quorum (in distinct agencies)."""
    current = settings.current(uow=uow)
    return settings.SettingsView(four_eyes=current.four_eyes, panel_quorum=current.panel_quorum)


@router.put("/assessment-settings", response_model=settings.SettingsView, tags=["settings"])
def change_settings(body: settings.SettingsChange, principal: ProgrammeWrite, uow: UnitOfWorkDep,
                    now: NowDep) -> settings.SettingsView:
    """Changes the tenant's settings (published as `assessment_settings.changed`)."""
    changed = settings.change(uow=uow, principal=principal, four_eyes=body.four_eyes,
                              panel_quorum=body.panel_quorum, now=now)
    return settings.SettingsView(four_eyes=changed.four_eyes, panel_quorum=changed.panel_quorum)


@router.get("/settings/history", response_model=settings.SettingsChangePage, tags=["settings"])
def settings_history(_: SettingsHistoryRead, uow: UnitOfWorkDep, limit: Limit = 50,
                     cursor: Cursor = None) -> settings.SettingsChangePage:
    """Every change to the tenant's assessment settings, newest first, with the values each replaced."""
    page = settings.changes(uow=uow, cursor=cursor, limit=limit)
    return settings.SettingsChangePage(items=[settings.SettingsChangeView.model_validate(c) for c in page.rows],
                                       next_cursor=page.next_cursor)
