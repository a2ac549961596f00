"""Intake's routes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Limit, decode_cursor, encode_cursor
from harambee_common.problems import NotFound
from harambee_intake import service
from harambee_intake.auth import ReferralsRead, ReferralsWrite
from harambee_intake.models import Referral
from harambee_intake.schemas import ReferralIn, ReferralPage, ReferralStatus, ReferralView

router = APIRouter(prefix="/v1/tenants/{tenant}", tags=["referrals"])


@router.post("/referrals", status_code=status.HTTP_201_CREATED, response_model=ReferralStatus)
def submit_referral(
    tenant: str, body: ReferralIn, principal: ReferralsWrite, uow: UnitOfWorkDep,
    request: Request, response: Response,
) -> ReferralStatus:
    """Submits a referral; the person's identity is encrypted and never returned."""
    referral = service.submit_referral(
        uow=uow, vault=request.app.state.vault, principal=principal, referral_in=body
    )
    response.headers["Location"] = f"{request.url.path}/{referral.id}"
    return ReferralStatus(id=referral.id, status=referral.status, received_at=referral.received_at)


@router.get("/referrals", response_model=ReferralPage)
def list_referrals(
    tenant: str, principal: ReferralsRead, uow: UnitOfWorkDep,
    limit: Limit = 50, cursor: str | None = None,
) -> ReferralPage:
    """Lists referrals, newest first: all of the tenant's for staff, its own for a partner."""
    after = decode_cursor(cursor) if cursor else None
    referrals = service.list_referrals(uow=uow, principal=principal, after=after, limit=limit)
    full = service.sees_full_referral(principal)
    last = referrals[-1] if len(referrals) == limit else None
    return ReferralPage(
        items=[_view(r, full=full) for r in referrals],
        next_cursor=encode_cursor(last.received_at, str(last.id)) if last else None,
    )


@router.get("/referrals/{referral_id}", response_model=ReferralView | ReferralStatus)
def get_referral(
    tenant: str, referral_id: uuid.UUID, principal: ReferralsRead, uow: UnitOfWorkDep
) -> ReferralView | ReferralStatus:
    """Gets one referral: its content for staff, its status for the partner that submitted it."""
    referral = service.read_referral(uow=uow, principal=principal, referral_id=referral_id)
    if referral is None:
        raise NotFound("No such referral.")
    return _view(referral, full=service.sees_full_referral(principal))


def _view(referral: Referral, *, full: bool) -> ReferralView | ReferralStatus:
    if not full:
        return ReferralStatus(id=referral.id, status=referral.status, received_at=referral.received_at)
    return ReferralView(
        id=referral.id,
        status=referral.status,
        received_at=referral.received_at,
        subject_ref=referral.subject_id,
        organisation=referral.organisation,
        source_type=referral.source_type,
        concern=referral.concern,
        indicators=referral.indicators,
    )
