"""Every query about information requests."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_assessment.models import InformationRequest
from harambee_common.pagination import Keyset, Slice, paginate

BY_DUE = Keyset(columns=(InformationRequest.due_on, InformationRequest.id), types=(date, uuid.UUID))
NEWEST = Keyset(columns=(InformationRequest.requested_at, InformationRequest.id), types=(datetime, uuid.UUID),
                descending=True)


def add(*, session: Session, request: InformationRequest) -> None:
    """Stores a new request."""
    session.add(request)


def get(*, session: Session, request_id: uuid.UUID, organisation: str | None = None,
        for_update: bool = False) -> InformationRequest | None:
    """A request of the tenant (addressed to the organisation, if one is given)."""
    query = sa.select(InformationRequest).where(InformationRequest.id == request_id)
    if organisation is not None:
        query = query.where(InformationRequest.organisation == organisation)
    return session.scalar(query.with_for_update() if for_update else query)


def of_case(*, session: Session, case_id: uuid.UUID, cursor: str | None, limit: int) -> Slice[InformationRequest]:
    """A page of a case's requests, newest first."""
    return paginate(session, sa.select(InformationRequest).where(InformationRequest.case_id == case_id),
                    keyset=NEWEST, cursor=cursor, limit=limit)


def listed(*, session: Session, organisation: str | None, case_filter: sa.ColumnElement[bool] | None,
           overdue_on: date | None, cursor: str | None, limit: int) -> Slice[InformationRequest]:
    """A page of requests by due date (to one organisation; only open ones due before a day, if given)."""
    query = sa.select(InformationRequest)
    if organisation is not None:
        query = query.where(InformationRequest.organisation == organisation)
    if case_filter is not None:
        query = query.where(case_filter)
    if overdue_on is not None:
        query = query.where(InformationRequest.status == "open", InformationRequest.due_on < overdue_on)
    return paginate(session, query, keyset=BY_DUE, cursor=cursor, limit=limit)
