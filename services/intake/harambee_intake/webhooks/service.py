"""Partner webhooks: subscriptions, signing, and the queue of status changes to deliver.

A delivery is a POST of a JSON body with three headers:

    Harambee-Webhook-Id: <delivery id; the same on every retry, so a receiver can de-duplicate>
    Harambee-Webhook-Timestamp: <unix seconds when this attempt was signed>
    Harambee-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The secret is the `secret` string returned once when the subscription is created, used as UTF-8
bytes. A receiver recomputes the HMAC over the raw body it received, compares it in constant time,
and rejects timestamps more than five minutes from its clock (a replayed request is stale).
Nothing here blocks the request that caused the change: it only adds rows to the queue, in the
same transaction, and the dispatcher (webhooks.delivery) sends them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from harambee_common.agreements import Party, decide, recorded_decision
from harambee_common.auth import TenantPrincipal
from harambee_common.catalogue import AccessRecorded
from harambee_common.db import UnitOfWork
from harambee_common.pagination import Slice
from harambee_common.permissions import Role
from harambee_common.problems import Forbidden, NotFound, ValidationFailed
from harambee_intake import sharing
from harambee_intake.events import EVENTS
from harambee_intake.models import Referral, WebhookAttempt, WebhookDelivery, WebhookSubscription
from harambee_intake.problems import InvalidState
from harambee_intake.referrals import repository as referrals_repository
from harambee_intake.tenant_keys import current_generation
from harambee_intake.vault import Vault, WrappedKey
from harambee_intake.webhooks import repository
from harambee_intake.webhooks.schemas import PingData, StatusChangedData

STATUS_CHANGED = "referral.status_changed"
PING = "webhook.ping"
SIGNATURE_VERSION = "v1"
MAX_ACTIVE_PER_ORGANISATION = 5
DISPATCHER = "webhook-dispatcher"  # the actor of what the dispatcher records


@dataclass(frozen=True)
class Created:
    """A new subscription and its signing secret (shown this once)."""

    subscription: WebhookSubscription
    secret: str


def canonical(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent for a payload."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of a body sent at a timestamp."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={mac}"


def check_url(url: str, *, allow_private: bool) -> str:
    """A destination the dispatcher may call: https to a public address (unless private is allowed)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValidationFailed("The webhook URL is not a URL.") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationFailed("The webhook URL must be an absolute https URL.")
    if parts.username or parts.password:
        raise ValidationFailed("The webhook URL must not carry credentials.")
    if not allow_private:
        if parts.scheme != "https":
            raise ValidationFailed("The webhook URL must use https.")
        if not public_host(parts.hostname):
            raise ValidationFailed("The webhook URL must point at a public address.")
    return url


def public_host(host: str) -> bool:
    """False for literal loopback, private, link-local and reserved addresses and for localhost."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return True  # a name: checked again against what it resolves to, at delivery
    return address.is_global


def register(
    *, uow: UnitOfWork, vault: Vault, principal: TenantPrincipal, url: str, description: str | None,
    allow_private: bool,
) -> Created:
    """Registers an endpoint for the caller's organisation; returns the secret once."""
    organisation = _organisation(principal)
    check_url(url, allow_private=allow_private)
    if repository.count_active_subscriptions(session=uow.session, organisation=organisation) >= (
        MAX_ACTIVE_PER_ORGANISATION
    ):
        raise InvalidState(f"An organisation may have at most {MAX_ACTIVE_PER_ORGANISATION} active webhooks.")
    subscription_id = uuid.uuid4()
    secret = "whsec_" + secrets.token_urlsafe(32)
    wrapped = vault.wrap_secret(secret.encode(), tenant=uow.tenant, context=_context(subscription_id),
                                generation=current_generation(uow=uow, vault=vault))
    subscription = WebhookSubscription(
        id=subscription_id, tenant_id=uow.tenant, organisation=organisation, url=url, description=description,
        wrapped_secret=wrapped.wrapped, key_generation=wrapped.generation, kek_id=wrapped.kek_id or vault.kek_id,
        created_by=principal.actor, created_at=datetime.now(UTC),
    )
    repository.add_subscription(session=uow.session, subscription=subscription)
    return Created(subscription=subscription, secret=secret)


def secret_of(*, vault: Vault, subscription: WebhookSubscription) -> str:
    """The subscription's signing secret, unwrapped."""
    wrapped = WrappedKey(subscription.wrapped_secret, subscription.key_generation, subscription.kek_id)
    return vault.unwrap_secret(tenant=subscription.tenant_id, context=_context(subscription.id),
                               wrapped=wrapped).decode()


def rewrap_secrets(*, uow: UnitOfWork, vault: Vault, generation: int) -> int:
    """Re-wraps webhook secrets under a new tenant key generation (part of a rotation)."""
    count = 0
    for subscription in repository.subscriptions_to_rewrap(session=uow.session, generation=generation,
                                                           kek_id=vault.kek_id):
        wrapped = vault.rewrap(
            tenant=uow.tenant, subject=_context(subscription.id), generation=generation,
            wrapped=WrappedKey(subscription.wrapped_secret, subscription.key_generation, subscription.kek_id))
        subscription.wrapped_secret, subscription.key_generation = wrapped.wrapped, wrapped.generation
        subscription.kek_id = wrapped.kek_id or vault.kek_id
        count += 1
    return count


def own_subscriptions(*, uow: UnitOfWork, principal: TenantPrincipal) -> list[WebhookSubscription]:
    """The caller's organisation's subscriptions."""
    return repository.list_subscriptions(session=uow.session, organisation=_organisation(principal))


def own_subscription(
    *, uow: UnitOfWork, principal: TenantPrincipal, subscription_id: uuid.UUID
) -> WebhookSubscription:
    """One of the caller's organisation's subscriptions; another organisation's is not found."""
    subscription = repository.get_subscription(session=uow.session, subscription_id=subscription_id)
    if subscription is None or subscription.organisation != _organisation(principal):
        raise NotFound("No such webhook.")
    return subscription


def disable(*, uow: UnitOfWork, principal: TenantPrincipal, subscription_id: uuid.UUID) -> None:
    """Stops deliveries to a subscription; its log stays readable."""
    subscription = own_subscription(uow=uow, principal=principal, subscription_id=subscription_id)
    if subscription.disabled_at is None:
        subscription.disabled_at = datetime.now(UTC)
        repository.cancel_pending_deliveries(session=uow.session, subscription_id=subscription.id)


def ping(*, uow: UnitOfWork, principal: TenantPrincipal, subscription_id: uuid.UUID) -> WebhookDelivery:
    """Queues a test delivery, for a partner checking its receiver."""
    subscription = own_subscription(uow=uow, principal=principal, subscription_id=subscription_id)
    if subscription.disabled_at is not None:
        raise InvalidState("This webhook is disabled.")
    return _enqueue(uow, subscription, PING, PingData(subscription_id=subscription.id))


def status_changed(*, uow: UnitOfWork, referral: Referral, previous: str) -> None:
    """Queues a delivery to each active subscription of the referring organisation, if its view changed."""
    current = referral.partner_status
    if current == previous or referral.organisation is None:
        return
    for subscription in repository.active_subscriptions(session=uow.session, organisation=referral.organisation):
        _enqueue(uow, subscription, STATUS_CHANGED,
                 StatusChangedData(referral_id=referral.id, status=current, previous_status=previous))


def deliveries(
    *, uow: UnitOfWork, principal: TenantPrincipal, subscription_id: uuid.UUID, cursor: str | None, limit: int,
) -> Slice[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """A page of a subscription's delivery log, newest first, with each delivery's attempts."""
    own_subscription(uow=uow, principal=principal, subscription_id=subscription_id)
    page = repository.list_deliveries(session=uow.session, subscription_id=subscription_id, cursor=cursor,
                                      limit=limit)
    attempts = repository.attempts_of(session=uow.session, delivery_ids=[d.id for d in page.rows])
    return Slice(rows=[(d, attempts.get(d.id, [])) for d in page.rows], next_cursor=page.next_cursor)


def redeliver(
    *, uow: UnitOfWork, principal: TenantPrincipal, subscription_id: uuid.UUID, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Queues a failed delivery again, at once."""
    subscription = own_subscription(uow=uow, principal=principal, subscription_id=subscription_id)
    delivery = repository.get_delivery(session=uow.session, delivery_id=delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound("No such delivery.")
    if delivery.state != "failed" or subscription.disabled_at is not None:
        raise InvalidState("Only a failed delivery of an active webhook can be sent again.")
    delivery.state, delivery.next_attempt_at, delivery.leased_until = "pending", datetime.now(UTC), None
    return delivery


def disclosed_payload(
    *, uow: UnitOfWork, delivery: WebhookDelivery, subscription: WebhookSubscription, hold_seconds: float
) -> dict[str, Any] | None:
    """The payload a leased delivery may carry now, cut to the partner's agreement; None when it is held.

    The agreement copy is read at delivery time, not when the change was queued: while no agreement in force
    lets the organisation read its referrals' status (suspended, terminated, expired), or the person's
    consent the agreement requires is missing (sharing.py), the delivery waits, pending, and is looked at
    again after `hold_seconds`; the hold costs no attempt and is recorded once (`agreement.refused`). A
    delivery sent is recorded as `agreement.applied` and, for a status change, `access.recorded` with the
    fields disclosed; the log keeps the payload as sent.
    """
    party = Party("organisation", subscription.organisation)
    decision = decide(session=uow.session, party=party, operation=sharing.READ_STATUS,
                      on=datetime.now(UTC).date())
    referral = None
    if delivery.event_type == STATUS_CHANGED:
        referral = referrals_repository.get_referral(
            session=uow.session, referral_id=uuid.UUID(delivery.payload["data"]["referral_id"]),
            organisation=subscription.organisation)
        if decision.granted and referral is not None and not sharing.may_disclose(
                session=uow.session, agreement=decision.agreement, organisation=subscription.organisation,
                referral=referral):
            decision = replace(decision, granted=False, reason="consent required and not recorded")
    client_id = f"webhook:{subscription.id}"
    if not decision.granted:
        held = f"held: {decision.reason}"
        if delivery.last_error != held:  # recorded when the hold begins or its reason changes, not per look
            uow.publish(recorded_decision(decision=decision, tenant=uow.tenant, actor=DISPATCHER,
                                          client_id=client_id, source=EVENTS))
        delivery.attempts -= 1  # the lease counted one; nothing was sent
        delivery.leased_until, delivery.last_error = None, held
        delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=hold_seconds)
        return None
    uow.publish(recorded_decision(decision=decision, tenant=uow.tenant, actor=DISPATCHER, client_id=client_id,
                                  source=EVENTS))
    if referral is not None:
        data, fields = sharing.projected(decision.agreement, delivery.payload["data"], sharing.STATUS_CHANGE_FIELDS)
        delivery.payload = {**delivery.payload, "data": data}
        EVENTS.publish(uow, AccessRecorded(
            actor=DISPATCHER, client_id=client_id, organisation=subscription.organisation, roles=[Role.partner],
            resource=f"referral/{referral.id}/status", fields=fields, purpose=f"webhook:{STATUS_CHANGED}",
        ), subject=str(referral.subject_id))
    return delivery.payload


def _enqueue(
    uow: UnitOfWork, subscription: WebhookSubscription, type_: str, data: StatusChangedData | PingData
) -> WebhookDelivery:
    now = datetime.now(UTC)
    delivery_id = uuid.uuid4()
    delivery = WebhookDelivery(
        id=delivery_id, tenant_id=uow.tenant, subscription_id=subscription.id, event_type=type_,
        payload={"id": str(delivery_id), "type": type_, "tenant": uow.tenant, "occurred_at": now.isoformat(),
                 "data": data.model_dump(mode="json")},
        state="pending", attempts=0, next_attempt_at=now, created_at=now,
    )
    repository.add_delivery(session=uow.session, delivery=delivery)
    return delivery


def _organisation(principal: TenantPrincipal) -> str:
    if not principal.organisation:
        raise Forbidden("Webhooks belong to an organisation; this token names none.")
    return principal.organisation


def _context(subscription_id: uuid.UUID) -> str:
    return f"webhook:{subscription_id}"
