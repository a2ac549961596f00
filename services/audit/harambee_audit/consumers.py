"""The audit consumer: every event on every other service's topic becomes one entry of its tenant's log.

Agreement events are also applied to the service's own copy of the agreements, which decides whether
a national compliance officer may read a county's log (auth.py).
"""

from __future__ import annotations

from harambee_audit import service
from harambee_audit.signing import CheckpointSigner
from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.components import AUDIT, COMPONENTS
from harambee_common.consumer import Handler, Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event

# Every component's topic but our own (checkpoints): recording it would feed the log its own tail.
TOPICS = tuple(c.topic for c in COMPONENTS if c is not AUDIT)


def log_subscription(*, signer: CheckpointSigner, checkpoint_every: int) -> Subscription:
    """Takes every type of event (a fallback handler) and appends it to the log."""

    def record(uow: UnitOfWork, event: Event) -> None:
        service.append_event(uow=uow, event=event, signer=signer, checkpoint_every=checkpoint_every)

    return Subscription(
        name="audit-log",
        topics=TOPICS,
        handlers={kind: _recorded_and(apply, record) for kind, apply in AGREEMENT_HANDLERS.items()},
        fallback=record,
    )


def _recorded_and(apply: Handler, record: Handler) -> Handler:
    """A handler that logs the event and applies it, in the same transaction."""

    def handle(uow: UnitOfWork, event: Event) -> None:
        record(uow, event)
        apply(uow, event)

    return handle
