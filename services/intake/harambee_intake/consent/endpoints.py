"""Consent's routes: recording, listing and withdrawing a person's consents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import Request, Response, status

from harambee_common.db import UnitOfWorkDep
from harambee_common.openapi_contract import responses_for
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, StaffRead
from harambee_intake.consent import service
from harambee_intake.consent.schemas import ConsentIn, ConsentView, WithdrawalIn
from harambee_intake.consent.service import ConsentRecord
from harambee_intake.dependencies import VaultDep
from harambee_intake.problems import InvalidState

router = tenant_router(tags=["consent"])


@router.post("/subjects/{subject_ref}/consents", status_code=status.HTTP_201_CREATED, response_model=ConsentView,
             responses=responses_for(InvalidState))
def record_consent(
    subject_ref: uuid.UUID, body: ConsentIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    vault: VaultDep, request: Request, response: Response,
) -> ConsentView:
    """Records a consent: the person's, or a parent's or guardian's for a minor."""
    found = service.record(uow=uow, vault=vault, principal=principal, subject_id=subject_ref, consent_in=body)
    response.headers["Location"] = f"{request.url.path}/{found.consent.id}"
    return _view(found)


@router.get("/subjects/{subject_ref}/consents", response_model=list[ConsentView])
def list_consents(
    subject_ref: uuid.UUID, principal: StaffRead, uow: UnitOfWorkDep, vault: VaultDep
) -> list[ConsentView]:
    """A person's consent records, newest first, each active, expired or withdrawn."""
    return [_view(c) for c in service.list_for(uow=uow, vault=vault, principal=principal, subject_id=subject_ref)]


@router.post("/subjects/{subject_ref}/consents/{consent_id}/withdrawal", response_model=ConsentView,
             responses=responses_for(InvalidState))
def withdraw_consent(
    subject_ref: uuid.UUID, consent_id: uuid.UUID, body: WithdrawalIn, principal: IntakeOfficer,
    uow: UnitOfWorkDep, vault: VaultDep,
) -> ConsentView:
    """Withdraws a consent in one call; every service is told through `consent.withdrawn`."""
    return _view(service.withdraw(uow=uow, vault=vault, principal=principal, subject_id=subject_ref,
                                  consent_id=consent_id, withdrawal=body))


def _view(found: ConsentRecord) -> ConsentView:
    record, opened = found.consent, found.opened
    return ConsentView(
        id=record.id, subject_ref=found.subject_ref, state=record.state(datetime.now(UTC)),
        given_by=record.given_by, giver_name=opened.get("giver_name"), purposes=record.purposes,
        recipients=record.recipients, method=record.method, given_at=record.given_at, expires_at=record.expires_at,
        evidence=opened.get("evidence"), note=opened.get("note"), recorded_by=record.recorded_by,
        recorded_at=record.recorded_at, withdrawn_at=record.withdrawn_at, withdrawn_by=record.withdrawn_by,
        withdrawal_method=record.withdrawal_method,
    )
