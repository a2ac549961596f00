"""Read-volume alerts: an actor reading far more than its own usual level is flagged for review.

Per tenant and actor, reads (`access.recorded` entries) are counted per local day. A day whose
count exceeds max(factor x the actor's median daily count over the trailing window, floor) raises
an alert; days without reads count as zero in the median, and an actor with no history meets the
floor. Counting runs as a bounded background job over the log (see `ReadVolumeWatcher`), not on
append: appending stays as fast as it can be, and one aggregate query counts a whole stretch of log.
An officer closes an alert with a note; the closing is appended to the log, like a break-the-glass
decision, in the transaction that stores it.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from harambee_audit import repository, service
from harambee_audit.entries import ACCESS_TYPE
from harambee_audit.events import EVENTS
from harambee_audit.models import ReadAlert
from harambee_audit.signing import CheckpointSigner
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue.audit import ReadAlertClosed
from harambee_common.db import UnitOfWork
from harambee_common.problems import Conflict, Forbidden, or_not_found


class AlreadyClosed(Conflict):
    slug, title = "already-closed", "This alert has already been closed"


class OwnAlert(Forbidden):
    slug, title = "own-alert", "An officer does not close an alert about their own reads"


@dataclass(frozen=True)
class AlertRule:
    """When a day's reads are far above the actor's usual level."""

    factor: float = 5.0
    floor: int = 50
    window_days: int = 14
    timezone: str = "Africa/Nairobi"

    def threshold(self, window: list[int]) -> tuple[float, float]:
        """(threshold, baseline) for a day, from the actor's counts on the days before it (missing days are 0)."""
        days = [*window, *[0] * (self.window_days - len(window))][: self.window_days]
        baseline = float(statistics.median(days)) if days else 0.0
        return max(self.factor * baseline, float(self.floor)), baseline

    def today(self, now: datetime) -> date:
        """The local date of a moment, in the programme's time zone."""
        return now.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class CountResult:
    """What one counting pass over a tenant's log did."""

    counted: int
    alerts: int


def count_and_alert(
    *, uow: UnitOfWork, rule: AlertRule, now: datetime, max_entries: int
) -> CountResult | None:
    """Counts the reads in the next (at most max_entries) uncounted entries and raises the alerts they cause.

    None when another worker is counting this tenant right now.
    """
    session, tenant = uow.session, uow.tenant
    start = repository.lock_read_mark(db_session=session, tenant=tenant)
    if start is None:
        return None
    head = repository.get_head(db_session=session, tenant=tenant)
    end = min(head.size if head else 0, start + max_entries)
    if end <= start:
        return CountResult(counted=0, alerts=0)
    touched = repository.count_reads(
        db_session=session, tenant=tenant, start=start, end=end, read_type=ACCESS_TYPE, zone=rule.timezone
    )
    repository.set_read_mark(db_session=session, tenant=tenant, counted=end)
    # Only recent days alert: a first pass over an old log should not raise alerts about last year.
    recent = [(actor, day, count) for actor, day, count in touched if day >= rule.today(now) - timedelta(days=1)]
    if not recent:
        return CountResult(counted=end - start, alerts=0)
    history = repository.read_history(
        db_session=session,
        tenant=tenant,
        actors={actor for actor, _, _ in recent},
        first=min(day for _, day, _ in recent) - timedelta(days=rule.window_days),
        last=max(day for _, day, _ in recent) - timedelta(days=1),
    )
    alerts = 0
    for actor, day, count in recent:
        window = [history.get((actor, day - timedelta(days=d)), 0) for d in range(1, rule.window_days + 1)]
        threshold, baseline = rule.threshold(window)
        if count > threshold:
            repository.raise_alert(
                db_session=session,
                values={
                    "id": uuid.uuid4(), "tenant_id": tenant, "actor": actor, "day": day, "count": count,
                    "threshold": threshold, "baseline": baseline, "raised_at": now, "updated_at": now,
                    "status": "open",
                },
            )
            alerts += 1
    return CountResult(counted=end - start, alerts=alerts)


def tenants_due(*, db_session: Session) -> list[str]:
    """The tenants with entries not yet counted."""
    return repository.read_counts_due(db_session=db_session)


@dataclass(frozen=True)
class AlertPage:
    """A page of alerts and how many have the status asked for."""

    items: list[ReadAlert]
    next_cursor: str | None
    total: int


def list_alerts(*, db_session: Session, tenant: str, status: str, cursor: str | None, limit: int) -> AlertPage:
    """Alerts with this status, oldest first."""
    page = repository.list_alerts(db_session=db_session, tenant=tenant, status=status, cursor=cursor, limit=limit)
    return AlertPage(
        items=page.rows,
        next_cursor=page.next_cursor,
        total=repository.count_alerts(db_session=db_session, tenant=tenant, status=status),
    )


def get_alert(*, db_session: Session, tenant: str, alert_id: uuid.UUID) -> ReadAlert:
    """One alert; NotFound when the tenant has none with this id."""
    return or_not_found(repository.get_alert(db_session=db_session, tenant=tenant, alert_id=alert_id), "No such alert.")


def close_alert(
    *,
    uow: UnitOfWork,
    principal: TenantPrincipal,
    alert_id: uuid.UUID,
    note: str,
    signer: CheckpointSigner | None,
    checkpoint_every: int,
) -> ReadAlert:
    """Closes an open alert with a note and appends the closing to the tenant's log."""
    alert = get_alert(db_session=uow.session, tenant=uow.tenant, alert_id=alert_id)
    if alert.status != "open":
        raise AlreadyClosed(f"It was closed at {alert.closed_at.isoformat() if alert.closed_at else '?'}.")
    if alert.actor == principal.actor:
        raise OwnAlert("Another compliance officer must close this alert.")
    closing = EVENTS.event(ReadAlertClosed(
        actor=principal.actor,
        client_id=principal.principal.client_id,
        purpose="read_volume_review",
        alert_id=alert.id,
        alerted_actor=alert.actor,
        day=alert.day,
        count=alert.count,
        threshold=alert.threshold,
        baseline=alert.baseline,
    ), tenant=uow.tenant, subject=f"read_alert/{alert.id}")
    log_seq = service.append_event(uow=uow, event=closing, signer=signer, checkpoint_every=checkpoint_every)
    closed = repository.close_alert(
        db_session=uow.session,
        tenant=uow.tenant,
        alert_id=alert_id,
        # Stored with its entry's time: the alert and the log agree on when it was closed.
        values={"closed_by": principal.actor, "closed_at": closing.time, "note": note, "log_seq": log_seq},
    )
    if closed is None:  # closed by another officer in the meantime: roll back this closing and its entry
        raise AlreadyClosed("Another officer closed it a moment ago.")
    return closed

