"""What assessment does with events: other services', and its own where a transfer crosses tenants.

Each handler reads the event's catalogued data and makes one service call.
"""

from __future__ import annotations

from harambee_assessment import service, transfers
from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.catalogue.assessment import TransferAccepted, TransferProposed, TransferRefused
from harambee_common.catalogue.intake import ReferralAccepted
from harambee_common.components import ASSESSMENT, GATEWAY, INTAKE
from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event


def on_referral_accepted(uow: UnitOfWork, event: Event) -> None:
    """Screening accepted a referral for assessment: open its case.

    Only accepted referrals become cases; escalated, signposted and no-further-action ones never reach
    assessment, as the programme's least-data rule asks.
    """
    data = ReferralAccepted.of(event)
    service.open_case(uow=uow, referral_id=data.referral_id, subject_ref=data.subject_ref)


def on_transfer_proposed(uow: UnitOfWork, event: Event) -> None:
    """A county proposed a transfer: the receiving county's side records it."""
    data = TransferProposed.of(event)
    if data.raised_by(event.tenant, side="sender"):
        transfers.receive_transfer(uow=uow, proposal=data)


def on_transfer_accepted(uow: UnitOfWork, event: Event) -> None:
    """The receiving county took the case over: the sender's case is marked transferred and minimised."""
    data = TransferAccepted.of(event)
    if data.raised_by(event.tenant, side="receiver"):
        transfers.conclude_accepted(uow=uow, acceptance=data, at=event.time)


def on_transfer_refused(uow: UnitOfWork, event: Event) -> None:
    """The receiving county declined: the sender records it; its case stays open."""
    data = TransferRefused.of(event)
    if data.raised_by(event.tenant, side="receiver"):
        transfers.conclude_refused(uow=uow, refusal=data, at=event.time)


SUBSCRIPTION = Subscription(
    name=ASSESSMENT.name,
    # Its own topic too: each county's step of a transfer is the other county's news.
    topics=(INTAKE.topic, GATEWAY.topic, ASSESSMENT.topic),
    handlers={
        ReferralAccepted: on_referral_accepted,
        TransferProposed: on_transfer_proposed,
        TransferAccepted: on_transfer_accepted,
        TransferRefused: on_transfer_refused,
        **AGREEMENT_HANDLERS,
    },
)
