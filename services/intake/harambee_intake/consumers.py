"""What intake does with other services' events: it keeps its copy of the data-sharing agreements."""

from __future__ import annotations

from harambee_common.agreements import AGREEMENT_HANDLERS
from harambee_common.consumer import Subscription

SUBSCRIPTION = Subscription(name="intake", topics=("registry.events",), handlers={**AGREEMENT_HANDLERS})
