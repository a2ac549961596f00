"""What interventions does with other services' events."""

from __future__ import annotations

import uuid
from datetime import datetime

from harambee_common.consumer import Subscription
from harambee_common.db import UnitOfWork, in_tenant
from harambee_common.events import Event
from harambee_interventions import repository
from harambee_interventions.models import KnownCase


def on_case_opened(uow: UnitOfWork, event: Event) -> None:
    """A case was opened: remember it, so that a plan can be made for it."""
    repository.add_known_case(
        session=uow.session,
        case=KnownCase(
            case_id=uuid.UUID(event.data["case_id"]),
            tenant_id=uow.tenant,
            subject_ref=uuid.UUID(event.data["subject_ref"]),
            opened_at=datetime.fromisoformat(event.data["opened_at"]),
        ),
    )


def on_case_transfer_accepted(uow: UnitOfWork, event: Event) -> None:
    """A county took a case over from another: the case moves, under its new id, to the receiving county."""
    data = event.data
    if event.tenant != data.get("to") or data.get("from") == data.get("to"):
        return
    # The sender no longer lists it; plans, when they exist, must move or be minimised with it.
    with in_tenant(uow, data["from"]) as sending:
        repository.remove_known_case(session=sending.session, case_id=uuid.UUID(data["case_id"]))
    repository.add_known_case(
        session=uow.session,
        case=KnownCase(
            case_id=uuid.UUID(data["received_case_id"]),
            tenant_id=uow.tenant,
            subject_ref=uuid.UUID(data["subject_ref"]),
            opened_at=datetime.fromisoformat(data["opened_at"]),
        ),
    )


SUBSCRIPTION = Subscription(
    name="interventions",
    topics=("assessment.events",),
    handlers={"case.opened": on_case_opened, "case.transfer_accepted": on_case_transfer_accepted},
)
