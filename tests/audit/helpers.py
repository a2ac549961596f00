"""Small helpers the audit tests share: valid events, delivery as the broker would, bounded waiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from harambee_common.consumer import EventConsumer
from harambee_common.events import Event


def make_event(
    tenant: str, *, type: str = "referral.received", subject: str | None = None, **data: Any
) -> Event:
    """A valid event on intake.events: references only."""
    return Event(
        type=type,
        tenant=tenant,
        topic="intake.events",
        source="/harambee/intake",
        subject=subject or f"subj-{uuid.uuid4().hex[:12]}",
        data={"referral_id": str(uuid.uuid4()), **data},
    )


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
