"""Break the glass: reads made under an emergency reason wait for a compliance officer's sign-off.

An `access.recorded` event whose data has `"emergency": true` is queued when it is appended (in the
same transaction, so none escapes the queue). An officer signs it off or flags it, once, with a note;
the decision is appended to the tenant's log directly, in the transaction that stores it, so the
decision and its entry in the tamper-evident record exist together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from harambee_audit import repository, service
from harambee_audit.events import EVENTS
from harambee_audit.models import EmergencyAccess, EmergencyReview
from harambee_audit.signing import CheckpointSigner
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.audit import EmergencyAccessFlagged, EmergencyAccessSignedOff
from harambee_common.db import UnitOfWork
from harambee_common.problems import Conflict, Forbidden, or_not_found

# The event that records each decision in the log.
DECISIONS = {"signed_off": EmergencyAccessSignedOff, "flagged": EmergencyAccessFlagged}


class AlreadyReviewed(Conflict):
    slug, title = "already-reviewed", "This emergency access has already been reviewed"


class OwnAccess(Forbidden):
    slug, title = "own-access", "An officer does not review their own emergency access"


@dataclass(frozen=True)
class QueueItem:
    """An emergency access, how long it has waited, and the decision on it if there is one."""

    access: EmergencyAccess
    review: EmergencyReview | None
    age_hours: float
    overdue: bool

    @property
    def status(self) -> str:
        """pending, signed_off or flagged."""
        return "pending" if self.review is None else self.review.decision


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue, with how many items match and how many of those are overdue."""

    items: list[QueueItem]
    next_cursor: str | None
    total: int
    overdue: int
    overdue_after_hours: float


def _item(
    access: EmergencyAccess, review: EmergencyReview | None, *, now: datetime, overdue_hours: float
) -> QueueItem:
    age = max((now - access.accessed_at).total_seconds() / 3600, 0.0)
    return QueueItem(
        access=access, review=review, age_hours=round(age, 1), overdue=review is None and age >= overdue_hours
    )


def list_queue(
    *,
    db_session: Session,
    tenant: str,
    status: str,
    cursor: str | None,
    limit: int,
    overdue_hours: float,
    now: datetime | None = None,
) -> QueuePage:
    """Emergency accesses with this status, oldest first, each with its age."""
    now = now or datetime.now(UTC)
    page = repository.list_emergency_accesses(
        db_session=db_session, tenant=tenant, status=status, cursor=cursor, limit=limit
    )
    total, overdue = repository.count_emergency_accesses(
        db_session=db_session, tenant=tenant, status=status, overdue_before=now - timedelta(hours=overdue_hours)
    )
    return QueuePage(
        items=[_item(a, r, now=now, overdue_hours=overdue_hours) for a, r in page.rows],
        next_cursor=page.next_cursor,
        total=total,
        overdue=overdue,
        overdue_after_hours=overdue_hours,
    )


def get_item(
    *, db_session: Session, tenant: str, seq: int, overdue_hours: float, now: datetime | None = None
) -> QueueItem:
    """One emergency access by its entry's seq; NotFound when that entry is not one."""
    found = or_not_found(repository.get_emergency_access(db_session=db_session, tenant=tenant, seq=seq),
                         "No emergency access is recorded at this entry.")
    return _item(*found, now=now or datetime.now(UTC), overdue_hours=overdue_hours)


def review(
    *,
    uow: UnitOfWork,
    principal: TenantPrincipal,
    seq: int,
    decision: Literal["signed_off", "flagged"],
    note: str,
    signer: CheckpointSigner | None,
    checkpoint_every: int,
    overdue_hours: float,
) -> QueueItem:
    """Signs off or flags an emergency access, once, and appends the decision to the tenant's log."""
    item = get_item(db_session=uow.session, tenant=uow.tenant, seq=seq, overdue_hours=overdue_hours)
    if item.review is not None:
        raise AlreadyReviewed(f"It was {item.review.decision} at {item.review.reviewed_at.isoformat()}.")
    access = item.access
    if access.actor is not None and access.actor == principal.actor:
        raise OwnAccess("Another compliance officer must review this access.")
    entry = EVENTS.event(DECISIONS[decision](
        actor=principal.actor,
        client_id=principal.principal.client_id,
        purpose="emergency_access_review",
        decision=decision,
        reviewed_seq=access.seq,
        reviewed_event_id=access.event_id,
        reviewed_actor=access.actor,
    ), tenant=uow.tenant, subject=access.subject)
    log_seq = service.append_event(uow=uow, event=entry, signer=signer, checkpoint_every=checkpoint_every)
    now = entry.time  # the decision is stored with its entry's time
    stored = repository.add_emergency_review(
        db_session=uow.session,
        values={
            "tenant_id": uow.tenant,
            "seq": seq,
            "decision": decision,
            "note": note,
            "reviewed_by": principal.actor,
            "reviewer_client_id": principal.principal.client_id,
            "reviewed_at": now,
            "log_seq": log_seq,
        },
    )
    if stored is None:  # another officer decided in the meantime; this transaction (and its entry) rolls back
        raise AlreadyReviewed("Another officer reviewed it a moment ago.")
    return _item(access, stored, now=now, overdue_hours=overdue_hours)
