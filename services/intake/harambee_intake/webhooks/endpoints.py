"""Webhooks' routes: a partner's subscriptions, test deliveries, and the delivery log."""

from __future__ import annotations

import uuid

from fastapi import Request, Response, status

from harambee_common.db import UnitOfWorkDep
from harambee_common.openapi_contract import responses_for
from harambee_common.pagination import Cursor, Limit
from harambee_common.tenancy import tenant_router
from harambee_intake.auth import PartnerIntegration
from harambee_intake.dependencies import ConfigDep, VaultDep
from harambee_intake.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from harambee_intake.problems import InvalidState
from harambee_intake.webhooks import service
from harambee_intake.webhooks.schemas import (
    AttemptView,
    DeliveryPage,
    DeliveryView,
    WebhookCreated,
    WebhookIn,
    WebhookView,
)

router = tenant_router(tags=["webhooks"])


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated,
             responses=responses_for(InvalidState))
def create_webhook(
    body: WebhookIn, principal: PartnerIntegration, uow: UnitOfWorkDep, vault: VaultDep,
    config: ConfigDep, request: Request, response: Response,
) -> WebhookCreated:
    """Registers an endpoint for status changes of your organisation's referrals; the secret is shown once."""
    created = service.register(uow=uow, vault=vault, principal=principal, url=body.url,
                               description=body.description, allow_private=config.webhooks.allow_private)
    response.headers["Location"] = f"{request.url.path}/{created.subscription.id}"
    return WebhookCreated(**_webhook(created.subscription).model_dump(), secret=created.secret)


@router.get("/webhooks", response_model=list[WebhookView])
def list_webhooks(principal: PartnerIntegration, uow: UnitOfWorkDep) -> list[WebhookView]:
    """Your organisation's webhooks."""
    return [_webhook(s) for s in service.own_subscriptions(uow=uow, principal=principal)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookView)
def get_webhook(
    webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep
) -> WebhookView:
    """One of your organisation's webhooks."""
    return _webhook(service.own_subscription(uow=uow, principal=principal, subscription_id=webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep) -> None:
    """Stops deliveries to a webhook; its delivery log stays readable."""
    service.disable(uow=uow, principal=principal, subscription_id=webhook_id)


@router.post("/webhooks/{webhook_id}/ping", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryView,
             responses=responses_for(InvalidState))
def ping_webhook(
    webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep
) -> DeliveryView:
    """Queues a signed test delivery (`webhook.ping`) to check your receiver."""
    return _delivery(service.ping(uow=uow, principal=principal, subscription_id=webhook_id), [])


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
def list_deliveries(
    webhook_id: uuid.UUID, principal: PartnerIntegration, uow: UnitOfWorkDep,
    limit: Limit = 50, cursor: Cursor = None,
) -> DeliveryPage:
    """The delivery log: every delivery, newest first, with each attempt's outcome."""
    page = service.deliveries(uow=uow, principal=principal, subscription_id=webhook_id, cursor=cursor, limit=limit)
    return DeliveryPage(items=[_delivery(d, attempts) for d, attempts in page.rows], next_cursor=page.next_cursor)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", status_code=status.HTTP_202_ACCEPTED,
             response_model=DeliveryView, responses=responses_for(InvalidState))
def retry_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, principal: PartnerIntegration,
    uow: UnitOfWorkDep,
) -> DeliveryView:
    """Queues a failed delivery again, at once."""
    delivery = service.redeliver(uow=uow, principal=principal, subscription_id=webhook_id, delivery_id=delivery_id)
    return _delivery(delivery, [])


def _webhook(subscription: WebhookSubscription) -> WebhookView:
    return WebhookView(id=subscription.id, url=subscription.url, description=subscription.description,
                       events=[service.STATUS_CHANGED], active=subscription.disabled_at is None,
                       created_at=subscription.created_at)


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryView:
    return DeliveryView(
        id=delivery.id, event_type=delivery.event_type, state=delivery.state, attempts=delivery.attempts,
        created_at=delivery.created_at, next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at, last_status=delivery.last_status, last_error=delivery.last_error,
        payload=delivery.payload,
        attempt_log=[AttemptView(attempt=a.attempt, at=a.at, status_code=a.status_code, error=a.error,
                                 duration_ms=a.duration_ms) for a in attempts],
    )
