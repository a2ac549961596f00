"""What monitoring does with other services' events: each catalogued type is mapped to one read-model write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.catalogue import EventData
from harambee_common.catalogue import assessment as a
from harambee_common.catalogue import intake as i
from harambee_common.catalogue import interventions as iv
from harambee_common.components import ASSESSMENT, GATEWAY, INTAKE, INTERVENTIONS, MONITORING
from harambee_common.consumer import Handler, Subscription
from harambee_common.db import UnitOfWork
from harambee_common.events import Event
from harambee_monitoring.facts import service


def _handler(model: type[EventData], record: Callable[..., None], **extra: Any) -> Handler:
    def handle(uow: UnitOfWork, event: Event) -> None:
        record(uow=uow, data=model.of(event), **extra)

    handle.__doc__ = f"Records `{model.type}` in the read model."
    return handle


def record(uow: UnitOfWork, data: EventData) -> None:
    """Records one event's data in the read model, as its handler would (the demo seed goes through here)."""
    if type(data) in PANEL_OUTCOMES:
        service.panel_decided(uow=uow, data=data, outcome=PANEL_OUTCOMES[type(data)])  # type: ignore[arg-type]
    else:
        FACTS[type(data)](uow=uow, data=data)


FACTS: dict[type[EventData], Callable[..., None]] = {
    i.ReferralReceived: service.referral_received,
    i.ReferralScreened: service.referral_screened,
    a.CaseOpened: service.case_opened,
    a.AssessmentApproved: service.assessment_approved,
    a.CaseConsented: service.case_consented,
    a.CaseWithdrawn: service.case_withdrawn,
    a.TransferAccepted: service.case_transferred_in,
    iv.PlanVersioned: service.plan_versioned,
    iv.SessionRecorded: service.session_recorded,
    iv.CaseClosed: service.case_closed,
    iv.FollowUpRecorded: service.follow_up_recorded,
}
PANEL_OUTCOMES: dict[type[EventData], str] = {
    a.CaseAdopted: "adopt", a.CaseDeclined: "decline", a.CaseSignposted: "signpost", a.CaseEscalated: "escalate",
}

def _transferred_out(uow: UnitOfWork, event: Event) -> None:
    """Records `case.transferred` (it carries no time of its own: the sender raised it when it let the case go)."""
    service.case_transferred_out(uow=uow, data=a.CaseTransferred.of(event), at=event.time)


SUBSCRIPTION = Subscription(
    name=MONITORING.name,
    topics=(INTAKE.topic, ASSESSMENT.topic, INTERVENTIONS.topic, GATEWAY.topic),
    handlers={
        **{model: _handler(model, record) for model, record in FACTS.items()},
        **{model: _handler(model, service.panel_decided, outcome=o) for model, o in PANEL_OUTCOMES.items()},
        a.CaseTransferred: _transferred_out,
        **AGREEMENT_HANDLERS,
    },
)
