"""What intake does with other services' events: it keeps its copy of the data-sharing agreements, and
moves a person's identity with their case when another county takes the case over."""

from __future__ import annotations

from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.catalogue.assessment import TransferAccepted
from harambee_common.consumer import Handler, Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event
from harambee_intake.transfers import service as transfers
from harambee_intake.vault import Vault


def on_transfer_accepted(*, vault: Vault) -> Handler:
    """The handler for `case.transfer_accepted`: the receiving county's intake takes the person over."""
    def handle(uow: UnitOfWork, event: Event) -> None:
        accepted = TransferAccepted.of(event)
        # Only the receiving county raises an acceptance, and only between two counties does a person move.
        if accepted.raised_by(event.tenant, side="receiver"):
            transfers.take_over(uow=uow, vault=vault, accepted=accepted, accepted_at=event.time)
    return handle


def subscription(*, vault: Vault) -> Subscription:
    """Intake's consumer: registry events for the agreements, assessment events for case transfers."""
    return Subscription(
        name="intake",
        topics=("registry.events", "assessment.events"),
        handlers={TransferAccepted: on_transfer_accepted(vault=vault), **AGREEMENT_HANDLERS},
    )
