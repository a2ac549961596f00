"""Every query about webhook subscriptions, their delivery queue and attempt log."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from harambee_common.pagination import Keyset, Slice, paginate
from harambee_intake.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


def count_active_subscriptions(*, session: Session, organisation: str) -> int:
    """How many webhooks an organisation has that are not disabled."""
    return session.scalar(sa.select(sa.func.count()).select_from(WebhookSubscription).where(
        WebhookSubscription.organisation == organisation, WebhookSubscription.disabled_at.is_(None))) or 0


def add_subscription(*, session: Session, subscription: WebhookSubscription) -> None:
    """Stores a webhook subscription."""
    session.add(subscription)
    session.flush()


def list_subscriptions(*, session: Session, organisation: str) -> list[WebhookSubscription]:
    """An organisation's webhooks, newest first."""
    return list(session.scalars(sa.select(WebhookSubscription)
                                .where(WebhookSubscription.organisation == organisation)
                                .order_by(WebhookSubscription.created_at.desc()).limit(100)))


def get_subscription(*, session: Session, subscription_id: uuid.UUID) -> WebhookSubscription | None:
    """A webhook by id."""
    return session.get(WebhookSubscription, subscription_id)


def active_subscriptions(*, session: Session, organisation: str) -> list[WebhookSubscription]:
    """An organisation's webhooks that receive deliveries."""
    return list(session.scalars(sa.select(WebhookSubscription).where(
        WebhookSubscription.organisation == organisation, WebhookSubscription.disabled_at.is_(None))))


def subscriptions_to_rewrap(*, session: Session, generation: int, kek_id: str) -> list[WebhookSubscription]:
    """Webhooks whose secret another tenant key generation wrapped."""
    return list(session.scalars(sa.select(WebhookSubscription).where(sa.or_(
        WebhookSubscription.key_generation != generation, WebhookSubscription.kek_id != kek_id))
        .with_for_update()))


def cancel_pending_deliveries(*, session: Session, subscription_id: uuid.UUID) -> None:
    """Stops the queued deliveries of a webhook."""
    session.execute(sa.update(WebhookDelivery).where(
        WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.state == "pending")
        .values(state="cancelled", next_attempt_at=None))


def add_delivery(*, session: Session, delivery: WebhookDelivery) -> None:
    """Queues a delivery."""
    session.add(delivery)
    session.flush()


def get_delivery(*, session: Session, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """A delivery by id."""
    return session.get(WebhookDelivery, delivery_id)


NEWEST_FIRST = Keyset(columns=(WebhookDelivery.created_at, WebhookDelivery.id), types=(datetime, uuid.UUID),
                      descending=True)


def list_deliveries(
    *, session: Session, subscription_id: uuid.UUID, cursor: str | None, limit: int
) -> Slice[WebhookDelivery]:
    """A page of a webhook's deliveries, newest first."""
    query = sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    return paginate(session, query, keyset=NEWEST_FIRST, cursor=cursor, limit=limit)


def attempts_of(*, session: Session, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
    """The attempts of each delivery, in order."""
    found: dict[uuid.UUID, list[WebhookAttempt]] = {}
    if delivery_ids:
        for attempt in session.scalars(sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
                                       .order_by(WebhookAttempt.attempt)):
            found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def tenants_with_due_deliveries(*, session: Session, limit: int) -> list[str]:
    """Which tenants have deliveries due (the only cross-tenant question the dispatcher asks)."""
    return list(session.scalars(sa.select(sa.func.intake_webhook_tenants_due(limit))))


def claim_due_deliveries(
    *, session: Session, limit: int, lease_until: datetime
) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
    """Leases due deliveries (skipping ones another dispatcher holds) and counts the attempt."""
    now = sa.func.now()
    due = list(session.scalars(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now,
            sa.or_(WebhookDelivery.leased_until.is_(None), WebhookDelivery.leased_until < now))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)))
    claimed = []
    for delivery in due:
        delivery.leased_until = lease_until
        delivery.attempts += 1
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        if subscription is not None:
            claimed.append((delivery, subscription))
    session.flush()
    return claimed


def add_attempt(*, session: Session, attempt: WebhookAttempt) -> None:
    """Logs one delivery attempt."""
    session.add(attempt)
