"""Partners' webhook subscriptions and their delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from harambee_common.pagination import Page
from harambee_intake.schema_types import ShortText, Strict


class WebhookIn(Strict):
    """An endpoint of a partner system for status changes of its organisation's referrals."""

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] = Field(
        description="An https URL (no credentials in it)")
    description: ShortText | None = None


class WebhookView(BaseModel):
    """A webhook subscription."""

    id: uuid.UUID
    url: str
    description: str | None
    events: list[str]
    active: bool
    created_at: datetime


SIGNATURE_SCHEME = (
    "Each delivery is a POST with headers Harambee-Webhook-Id, Harambee-Webhook-Timestamp (unix seconds) "
    "and Harambee-Webhook-Signature: v1=<hex HMAC-SHA256 keyed with the secret (UTF-8) over "
    "'<timestamp>.' followed by the raw body>. Compare in constant time; reject timestamps more than "
    "300 seconds from your clock; de-duplicate on Harambee-Webhook-Id."
)


class WebhookCreated(WebhookView):
    """A new subscription, with its signing secret: shown this once, store it safely."""

    secret: str
    signature_scheme: str = SIGNATURE_SCHEME


class AttemptView(BaseModel):
    """One delivery attempt."""

    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryView(BaseModel):
    """A delivery and its attempts."""

    id: uuid.UUID
    event_type: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    payload: dict[str, Any]
    attempt_log: list[AttemptView]


class DeliveryPage(Page[DeliveryView]):
    """One page of a webhook's delivery log, newest first."""


class StatusChangedData(BaseModel):
    """The data of a `referral.status_changed` delivery: what the referring partner may see changed."""

    referral_id: uuid.UUID
    status: str
    previous_status: str


class PingData(BaseModel):
    """The data of a `webhook.ping` delivery, sent when a partner asks to check its receiver."""

    subscription_id: uuid.UUID
