"""Small helpers the audit tests share: valid events, delivery as the broker would, bounded waiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from harambee_common.catalogue import CATALOGUE
from harambee_common.components import COMPONENTS, INTAKE
from harambee_common.consumer import EventConsumer
from harambee_common.events import Event

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _reference(subject: str, kind: str) -> str:
    """A reference derived from the subject: the same event data whenever a test makes it again."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{subject}"))


# What each producer sends, for the types the tests use (references only); a test overrides fields.
SAMPLES: dict[str, Callable[[str], dict[str, Any]]] = {
    "referral.received": lambda subject: {
        "referral_id": _reference(subject, "referral"), "subject_ref": _reference(subject, "subject"),
        "source_type": "education", "organisation": None, "received_at": AT.isoformat(), "repeat_referral": False,
        "age_band": "15_17", "is_minor": True, "gender": None, "indicators": [], "concern_types": [],
    },
    "case.opened": lambda subject: {
        "case_id": _reference(subject, "case"), "subject_ref": _reference(subject, "subject"),
        "referral_id": _reference(subject, "referral"), "opened_at": AT.isoformat(),
    },
    "access.recorded": lambda subject: {
        "actor": "worker-1", "client_id": "case-portal", "organisation": None, "roles": ["case_worker"],
        "resource": f"case:{_reference(subject, 'case')}", "fields": ["status"], "purpose": "assessment",
    },
    "agreement.applied": lambda subject: {
        "actor": "worker-1", "client_id": "cso-portal", "party": {"kind": "organisation", "id": "cso-1"},
        "operation": "submit_referrals", "agreement_id": _reference(subject, "agreement"), "agreement_version": 1,
        "reason": "in force",
    },
}


def make_event(
    tenant: str, *, type: str = "referral.received", subject: str | None = None, **data: Any
) -> Event:
    """A valid event on its producer's topic (its data fits the catalogue): a sample of its type, data overriding."""
    subject = subject or f"subj-{uuid.uuid4().hex[:12]}"
    model = CATALOGUE[type]
    fitting = model.model_validate({**SAMPLES[type](subject), **data})
    return raw_event(tenant, type=type, subject=subject, data=fitting.dump())


def raw_event(tenant: str, *, type: str, subject: str, data: dict[str, Any]) -> Event:
    """An event with exactly this data, whether or not it fits the catalogue, on its producer's topic.

    Types every service publishes travel on intake.events; a consumer parks a type on another's topic.
    """
    model = CATALOGUE.get(type)
    producer = next((c for c in COMPONENTS if model is not None and c.topic == model.topic), INTAKE)
    return Event(type=type, tenant=tenant, topic=producer.topic, source=producer.source, subject=subject, data=data)


def deliver(consumer: EventConsumer, event: Event) -> bool:
    """Hands an event to the consumer exactly as the broker would."""
    return consumer.apply(event.topic, event.headers(), event.value())


def wait_until(check: Callable[[], Any], *, seconds: float = 60.0, interval: float = 0.25) -> Any:
    """Polls check until it returns something truthy; fails after seconds (and a bounded count)."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / interval) + 1):
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    pytest.fail(f"gave up waiting after {seconds}s")
