"""Every query about rights requests and erasure."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_intake.models import (
    AccessExport,
    RightsRequest,
    Subject,
)
from harambee_intake.subjects.repository import forget_sealed


def add_rights_request(*, session: Session, request: RightsRequest) -> None:
    """Records a rights request."""
    session.add(request)
    session.flush()


def lock_rights_request(*, session: Session, request_id: uuid.UUID) -> RightsRequest | None:
    """A rights request, for update."""
    return session.scalar(sa.select(RightsRequest).where(RightsRequest.id == request_id).with_for_update())


SOONEST_DUE = Keyset(columns=(RightsRequest.due_at, RightsRequest.id), types=(datetime, uuid.UUID))


def list_rights_requests(
    *, session: Session, status: str | None, due_before: datetime | None, cursor: str | None, limit: int,
) -> Slice[RightsRequest]:
    """A page of rights requests, soonest due first."""
    query = sa.select(RightsRequest)
    if status is not None:
        query = query.where(RightsRequest.status == status)
    if due_before is not None:
        query = query.where(RightsRequest.due_at < due_before)
    return paginate(session, query, keyset=SOONEST_DUE, cursor=cursor, limit=limit)


def add_access_export(*, session: Session, export: AccessExport) -> None:
    """Records an access export given to a person."""
    session.add(export)
    session.flush()


def rights_requests_of(*, session: Session, subject_ids: list[uuid.UUID]) -> list[RightsRequest]:
    """The rights requests about these subjects."""
    return list(session.scalars(sa.select(RightsRequest).where(RightsRequest.subject_id.in_(subject_ids))
                                .order_by(RightsRequest.received_at).limit(500)))


def erase_subjects(
    *, session: Session, subject_ids: list[uuid.UUID], at: datetime, by: str, reason: str
) -> dict[str, int]:
    """Destroys subjects' keys and everything sealed under them, and what could point at them.

    The ciphertext that remains anywhere (backups included) was sealed under the destroyed keys. Who
    erased them and why stays with the subject row: the accountability the law asks for.
    """
    erased = session.execute(
        sa.update(Subject).where(Subject.id.in_(subject_ids))
        .values(wrapped_key=None, identity={}, erased_at=at, erased_by=by, erasure_reason=reason,
                version=Subject.version + 1)).rowcount
    forgotten = forget_sealed(session=session, subject_ids=subject_ids, at=at, marker="[erased]")
    return {"subjects": erased, **forgotten.counts}
