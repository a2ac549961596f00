"""Screening's routes: a referral's screening decision, and the timeliness report."""

from __future__ import annotations

import uuid

from fastapi import Response

from harambee_common.db import UnitOfWorkDep
from harambee_common.openapi_contract import responses_for
from harambee_common.pagination import Timestamp
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, StaffRead
from harambee_intake.dependencies import IfMatch, VaultDep
from harambee_intake.preconditions import etag
from harambee_intake.problems import InvalidState
from harambee_intake.schema_types import aware
from harambee_intake.screening import service
from harambee_intake.screening.schemas import ScreeningIn, ScreeningView, TimelinessReport
from harambee_intake.screening.views import screening_view

router = tenant_router()


@router.post("/referrals/{referral_id}/screening", response_model=ScreeningView, tags=["screening"],
             responses=responses_for(InvalidState))
def screen_referral(
    referral_id: uuid.UUID, body: ScreeningIn, principal: IntakeOfficer, uow: UnitOfWorkDep,
    vault: VaultDep, response: Response, if_match: IfMatch = None,
) -> ScreeningView:
    """Records the screening outcome, with its required reason; If-Match is required.

    An escalation answers with the tenant's designated contact to hand the referral to, now.
    """
    decision = service.screen(uow=uow, vault=vault, principal=principal, referral_id=referral_id, decision=body,
                              if_match=if_match)
    response.headers["ETag"] = etag(decision.referral.version)
    return screening_view(decision)


@router.get("/reports/screening-timeliness", response_model=TimelinessReport, tags=["reports"])
def screening_timeliness(
    _principal: StaffRead, uow: UnitOfWorkDep,
    received_from: Timestamp | None = None, received_to: Timestamp | None = None,
) -> TimelinessReport:
    """Time from receipt to screening, per outcome, for referrals received in a period (default 90 days)."""
    return TimelinessReport(**service.timeliness(uow=uow, received_from=aware(received_from),
                                                 received_to=aware(received_to)))
