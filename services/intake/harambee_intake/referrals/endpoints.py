"""Referrals' routes: submitting, listing, reading and amending them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response, status
from fastapi.responses import JSONResponse

from harambee_common.db import UnitOfWorkDep
from harambee_common.pagination import Cursor, Limit, Timestamp
from harambee_common.problems import ValidationFailed, or_not_found
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import IntakeOfficer, ReferralsRead, ReferralsWrite
from harambee_intake.dependencies import IdempotencyKeyHeader, IfMatch, VaultDep
from harambee_intake.preconditions import etag
from harambee_intake.referrals import idempotency, service
from harambee_intake.referrals.record import ReferralDetail, staff_view, status_view, view
from harambee_intake.referrals.repository import ReferralFilter
from harambee_intake.referrals.schemas import (
    Outcome,
    ReferralIn,
    ReferralPage,
    ReferralPatch,
    ReferralSort,
    ReferralStatus,
    ReferralView,
    SourceType,
)
from harambee_intake.schema_types import aware

router = tenant_router(tags=["referrals"])


@router.post("/referrals", status_code=status.HTTP_201_CREATED, response_model=ReferralStatus)
def submit_referral(
    body: ReferralIn, principal: ReferralsWrite, uow: UnitOfWorkDep, vault: VaultDep,
    request: Request, response: Response, idempotency_key: IdempotencyKeyHeader = None,
) -> ReferralStatus | JSONResponse:
    """Submits a referral; the person's identity is encrypted and never returned.

    With an Idempotency-Key, a retry with the same body gets the first response and creates
    nothing; the same key with another body is a 409 problem.
    """
    if idempotency_key is not None:
        replay = idempotency.claim(uow=uow, principal=principal, key=idempotency_key,
                                   operation="POST referrals", body=body.model_dump(mode="json"))
        if replay is not None:
            headers = {"Idempotent-Replayed": "true"}
            if replay.location:
                headers["Location"] = replay.location
            return JSONResponse(replay.body, status_code=replay.status, headers=headers)
    referral = service.submit_referral(uow=uow, vault=vault, principal=principal, referral_in=body)
    location = f"{request.url.path}/{referral.id}"
    response.headers["Location"] = location
    # The partner's own submission echoed, as far as its agreement permits: no disclosure to record.
    created, _ = status_view(referral, agreement=principal.agreement)
    if idempotency_key is not None:
        idempotency.remember(uow=uow, principal=principal, key=idempotency_key,
                             status=status.HTTP_201_CREATED, body=created.model_dump(mode="json"),
                             location=location)
    return created


@router.get("/referrals", response_model=ReferralPage)
def list_referrals(
    principal: ReferralsRead, uow: UnitOfWorkDep, vault: VaultDep,
    status: Annotated[list[str] | None, Query()] = None,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    source_type: Annotated[list[SourceType] | None, Query()] = None,
    received_from: Timestamp | None = None,
    received_to: Timestamp | None = None,
    screener: Annotated[str | None, Query(max_length=200, description='An officer\'s id, or "me"')] = None,
    sort: ReferralSort = ReferralSort.received_at_desc,
    limit: Limit = 50, cursor: Cursor = None,
) -> ReferralPage:
    """Lists referrals: all of the tenant's for staff, its own for a partner.

    Filters combine (AND); a repeated `status` or `source_type` matches any of its values.
    `received_from` is inclusive and `received_to` exclusive. The cursor continues the same sort.
    """
    where = ReferralFilter(
        statuses=tuple(status or ()), outcomes=tuple(o.value for o in outcome or ()),
        source_types=tuple(s.value for s in source_type or ()),
        received_from=aware(received_from), received_to=aware(received_to), screener=screener,
        sort=sort.value,
    )
    page = service.list_referrals(uow=uow, vault=vault, principal=principal, where=where, cursor=cursor,
                                  limit=limit)
    return ReferralPage(items=[view(item) for item in page.rows], next_cursor=page.next_cursor)


@router.get("/referrals/{referral_id}", response_model=ReferralView | ReferralStatus)
def get_referral(
    referral_id: uuid.UUID, principal: ReferralsRead, uow: UnitOfWorkDep, vault: VaultDep,
    response: Response,
) -> ReferralView | ReferralStatus:
    """Gets one referral: its content for staff (with an ETag), its status for the partner that sent it."""
    item = or_not_found(service.read_referral(uow=uow, vault=vault, principal=principal, referral_id=referral_id),
                        "No such referral.")
    if isinstance(item, ReferralDetail):
        response.headers["ETag"] = etag(item.referral.version)
    return view(item)


@router.patch("/referrals/{referral_id}", response_model=ReferralView)
def amend_referral(
    referral_id: uuid.UUID, body: ReferralPatch, principal: IntakeOfficer, uow: UnitOfWorkDep,
    vault: VaultDep, response: Response, if_match: IfMatch = None,
) -> ReferralView:
    """Assigns a screener or sets the priority. If-Match is required: 412 when someone changed it first."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationFailed("Name at least one of: screener, priority.")
    detail = service.amend_referral(uow=uow, vault=vault, principal=principal, referral_id=referral_id,
                                    changes=changes, if_match=if_match)
    response.headers["ETag"] = etag(detail.referral.version)
    return staff_view(detail)
