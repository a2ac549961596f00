"""The event catalogue: the typed data of every event that crosses a service boundary.

One module per producing component (its topic), and `shared` for what every service publishes.
`docs/events.md` is generated from these models (`python -m harambee_common.catalogue > docs/events.md`);
a test keeps it current.
"""

from harambee_common.catalogue import assessment, audit, intake, interventions, registry
from harambee_common.catalogue.base import (
    CATALOGUE,
    EventData,
    check_published_on,
    event_type,
    parse,
    validated,
)
from harambee_common.catalogue.shared import AccessRecorded, AgreementApplied, AgreementRefused, Party

__all__ = [
    "CATALOGUE",
    "AccessRecorded",
    "AgreementApplied",
    "AgreementRefused",
    "EventData",
    "Party",
    "assessment",
    "audit",
    "check_published_on",
    "event_type",
    "intake",
    "interventions",
    "parse",
    "registry",
    "validated",
]
