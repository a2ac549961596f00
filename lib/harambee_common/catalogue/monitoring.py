"""Events published on `monitoring.events` by the monitoring service: the releases of aggregate figures.

A release to a party outside the county (the national programme) is recorded in the county's log, beside
the `agreement.applied` decision it was made under: which indicator, with which protection, and, in the
differential-privacy mode, how much of the agreement's privacy budget it spent. Figures only, never rows.
"""

from __future__ import annotations

import uuid

from harambee_common.catalogue.base import EventData, event_type

TOPIC = "monitoring.events"


@event_type("indicators.released", topic=TOPIC)
class IndicatorsReleased(EventData):
    """A county's indicator figures were released to another tenant under an agreement."""

    indicator: str
    """The indicator released (funnel, referrals, ...)."""
    recipient: str
    """The tenant that received it (e.g. ke-national)."""
    actor: str
    """Who read it: the token's subject."""
    agreement_id: uuid.UUID
    """The agreement it was released under."""
    agreement_version: int
    """That agreement's version."""
    months: list[str]
    """The months (YYYY-MM) the figures cover, sorted."""
    protection: str
    """How small counts were protected: `suppression` or `differential_privacy`."""
    suppression_threshold: int | None
    """Counts below this were suppressed, with complementary cells (null under differential privacy)."""
    cells_withheld: int
    """How many published cells were withheld (primary and secondary)."""
    epsilon: float | None
    """The privacy loss ε the release spent (null under suppression)."""
    budget_period: str | None
    """The budget period it was spent from, e.g. `2026-Q4` (null under suppression)."""
