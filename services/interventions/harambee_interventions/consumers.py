"""What interventions does with other services' events: each is mapped to one service call."""

from __future__ import annotations

from harambee_common.catalogue.assessment import CaseOpened, TransferAccepted
from harambee_common.components import ASSESSMENT, INTERVENTIONS
from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event
from harambee_interventions import service


def on_case_opened(uow: UnitOfWork, event: Event) -> None:
    """A case was opened: remember it, so that a plan can be made for it."""
    data = CaseOpened.of(event)
    service.learn_case(uow=uow, case_id=data.case_id, subject_ref=data.subject_ref, opened_at=data.opened_at)


def on_transfer_accepted(uow: UnitOfWork, event: Event) -> None:
    """A county took a case over from another: the case moves, under its new id, to the receiving county."""
    data = TransferAccepted.of(event)
    if data.raised_by(event.tenant, side="receiver"):
        service.move_case(uow=uow, from_tenant=data.from_tenant, case_id=data.case_id,
                          received_case_id=data.received_case_id, subject_ref=data.subject_ref,
                          opened_at=data.opened_at)


SUBSCRIPTION = Subscription(
    name=INTERVENTIONS.name,
    topics=(ASSESSMENT.topic,),
    handlers={CaseOpened: on_case_opened, TransferAccepted: on_transfer_accepted},
)
