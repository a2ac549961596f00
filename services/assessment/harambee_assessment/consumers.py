"""What assessment does with events: other services', and its own where a transfer crosses tenants."""

from __future__ import annotations

import uuid

from harambee_assessment import service, transfers
from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event


def on_referral_accepted(uow: UnitOfWork, event: Event) -> None:
    """Screening accepted a referral for assessment: open its case.

    Only accepted referrals become cases; escalated, signposted and no-further-action ones never reach
    assessment, as the programme's least-data rule asks.
    """
    service.open_case(
        uow=uow,
        referral_id=uuid.UUID(event.data["referral_id"]),
        subject_ref=uuid.UUID(event.data["subject_ref"]),
    )


def on_transfer_proposed(uow: UnitOfWork, event: Event) -> None:
    """A county proposed a transfer: the receiving county's side records it."""
    if _raised_by(event, "from"):
        transfers.receive_transfer(uow=uow, data=event.data)


def on_transfer_accepted(uow: UnitOfWork, event: Event) -> None:
    """The receiving county took the case over: the sender's case is marked transferred and minimised."""
    if _raised_by(event, "to"):
        transfers.conclude_accepted(uow=uow, data=event.data, at=event.time)


def on_transfer_refused(uow: UnitOfWork, event: Event) -> None:
    """The receiving county declined: the sender records it; its case stays open."""
    if _raised_by(event, "to"):
        transfers.conclude_refused(uow=uow, data=event.data, at=event.time)


def _raised_by(event: Event, side: str) -> bool:
    """Whether a transfer event comes from the tenant on the side it claims, and names two tenants."""
    return event.tenant == event.data.get(side) and event.data.get("from") != event.data.get("to")


SUBSCRIPTION = Subscription(
    name="assessment",
    # Its own topic too: each county's step of a transfer is the other county's news.
    topics=("intake.events", "registry.events", "assessment.events"),
    handlers={
        "referral.accepted": on_referral_accepted,
        "case.transfer_proposed": on_transfer_proposed,
        "case.transfer_accepted": on_transfer_accepted,
        "case.transfer_refused": on_transfer_refused,
        **AGREEMENT_HANDLERS,
    },
)
